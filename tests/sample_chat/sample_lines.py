"""The hand-written repertoire behind the bundled sample chat (see make_sample.py beside this file).

Everything here is original and fictional: four friends, the places they go, the games they play,
the bands they like. ``SLOTS`` fills ``{placeholders}``; ``LINES[speaker][move]`` holds one template
per line (a literal ``\\n`` in a template is a line break inside one message).

Voices, kept consistent on purpose so a small model can pick them up:
- Maya: all lowercase, "omg", "lol", "!!", emoji; food, cooking, music, her sourdough starter Gerald.
- Jonas: formal full sentences with full stops; "Well,", "Right.", "To be fair,", "Hmm."; chess, trains.
- pixel_dan: lowercase gamer slang, "bro", "ngl", "fr", "lmao", "💀", no full stops; patch notes, ranked.
- Priya: sentence case without final full stops, many questions, "haha", "tbh"; plans, hikes, books.
"""

SLOTS = {
    "restaurant": [
        "Noodle Nook", "Casa Pilar", "the Golden Dumpling", "Slice Society", "Tacos Lunares", "Pho Real",
        "the Copper Pot", "Little Seoul", "Bao Down", "Saffron House", "the Green Fork", "Mama Rosa's",
        "Curry Corner", "the Fish Shed", "Ramen Republic", "Burger Barn", "the Olive Tree", "Falafel Friends",
    ],
    "food": [
        "ramen", "dumplings", "tacos", "pho", "bao buns", "katsu curry", "margherita pizza", "bibimbap",
        "pad thai", "falafel wraps", "mushroom risotto", "fish and chips", "paneer tikka", "smash burgers",
        "gyoza", "cheesecake", "churros", "tteokbokki", "laksa", "pierogi",
    ],
    "dish": [
        "focaccia", "sourdough", "banana bread", "shakshuka", "lasagne", "dal", "cinnamon rolls",
        "chili", "gnocchi", "miso soup", "pancakes", "apple crumble", "veggie curry", "pesto pasta",
        "lemon tart", "fried rice", "bagels", "tomato soup", "brownies", "pizza dough",
    ],
    "snack": [
        "trail mix", "flapjacks", "crisps", "oranges", "sandwiches", "cookies", "energy bars",
        "pretzels", "grapes", "cheese rolls",
    ],
    "cafe": ["Bean There", "the Daily Grind", "Kettle & Crumb", "Moonbeam Coffee", "the Corner Cup"],
    "artist": [
        "the Velvet Kites", "Moonlit Static", "Sofia Rain", "Paper Lanterns", "the Marigolds", "Juno Vale",
        "Neon Harbour", "Tidal Daisy", "the Late Trams", "Kit Oduya", "Glass Orchard", "Lucky Comet",
    ],
    "song": [
        "Golden Hour Bus", "Paper Planes at 3am", "Lemonade Sky", "Slow Dance in the Kitchen", "Northbound",
        "Velvet Weather", "Small Town Satellite", "Orange Moon", "Sunday Static", "Honey & Rain",
        "Dreaming in Blue", "Last Tram Home",
    ],
    "album": ["Blue Hours", "Kitchen Light", "Satellites", "Soft Machines", "Paper Weather", "Night Bloom"],
    "venue": ["the Roundhouse", "the Lantern Hall", "the Old Brewery", "Dockside", "the Velvet Room", "Riverside Stage"],
    "game": [
        "Starfall Arena", "Hexbreakers", "Orbit Rush", "Dungeon Drift", "Mech Legends", "Rift Runners",
        "Kingdom Crates", "Neon Drift", "Shardfall", "Tiny Tactics",
    ],
    "hero": ["Vex", "Rook", "Nova", "Tallow", "Kestrel", "Brine", "Sable", "Quill", "Ember", "Glint"],
    "rank": ["gold", "platinum", "diamond", "silver", "master"],
    "patch": ["3.2", "3.4", "4.0", "4.1", "4.3", "5.0", "5.2", "2.8", "6.1", "1.9"],
    "trail": [
        "Fox Ridge loop", "Mill Creek gorge", "Cedar Lake trail", "Hollow Peak", "the Heron Marsh path",
        "Windy Saddle", "the Old Quarry walk", "Pine Hollow", "the Three Bridges route", "Lark Hill",
        "Stonebrook falls", "the Ridgeback traverse",
    ],
    "km": ["9", "11", "12", "14", "16", "18", "21"],
    "book": [
        "The Lighthouse Keeper's Daughter", "Salt and Starlight", "A Map of Quiet Places", "The Glass Orchard",
        "Winter at Wren Cottage", "The Cartographer's Lie", "Small Hours", "The Last Ferry", "River of Lanterns",
        "The Clockmaker's Garden", "Seven Rainy Sundays", "Under the Copper Sky",
    ],
    "writer": ["Ada Finch", "Tomas Reyes", "Mira Okafor", "Leon Hartley", "Ines Laurent", "Noor Haddad"],
    "genre": ["sci-fi", "a mystery", "a thriller", "fantasy", "a memoir", "historical fiction"],
    "movie": [
        "Moonfall Express", "The Quiet Heist", "Paper Tigers", "Last Light Over Ashby", "Robot Summer",
        "The Long Detour", "Nightshift Bakery", "Starlight Motel", "The Velvet Code", "Cloud Harbour",
    ],
    "show": ["Baker Street Bakers", "Deep Orbit", "The Allotment", "Crown of Tides", "Lab Rats", "Harbour Lights"],
    "boardgame": ["Catan", "Ticket to Ride", "Codenames", "Wingspan", "Azul", "Carcassonne", "Dixit", "Splendor"],
    "city": ["Porto", "Vienna", "Copenhagen", "Lyon", "Ghent", "Ljubljana", "Edinburgh", "Bologna", "Kraków", "Utrecht"],
    "station": ["Central", "Westbridge", "Nordhafen", "Elm Park", "Harbour Street", "Southgate"],
    "line": ["RE5", "S3", "RB12", "IC 2041", "S7", "RE1"],
    "opening": [
        "the Sicilian", "the Caro-Kann", "the Queen's Gambit", "the London System", "the King's Indian",
        "the French Defence", "the Italian", "the Scandinavian", "the Ruy Lopez", "the Dutch",
    ],
    "rating": ["1480", "1512", "1533", "1547", "1561", "1578", "1590", "1604", "1622"],
    "time": ["7", "7:30", "8", "6:30", "8:30", "7:15"],
    "dep": ["7:04", "8:12", "9:04", "6:48", "10:12", "8:42"],
    "mtime": ["8", "8:30", "9", "9:30", "7:45", "10"],
    "day": ["friday", "saturday", "sunday", "thursday", "saturday", "sunday"],
    "n": ["2", "3", "4", "5", "6"],
    "minutes": ["12", "15", "18", "20", "25", "35", "40"],
    "chore": ["laundry", "my tax stuff", "the dishes", "cleaning the flat", "emails", "grocery shopping"],
    "thing": ["a tiny cactus", "a new kettle", "a rain jacket", "a second-hand bike", "a desk lamp", "a plant stand"],
    "word": ["chaotic", "legendary", "cursed", "iconic", "wholesome", "unhinged"],
}

# Per speaker: move -> templates. Moves named "topic.move" fall back to "move", then to FALLBACK in
# make_sample.py, then to "ack".
LINES = {
    "Maya": {
        "gig.details": """
            tickets are like 35 each, i'll buy them all tonight!!
            doors at 7, they're on at 9 lol
            it's standing only but there's a balcony for jonas's knees lol
            i already bought the tickets, you're all coming 😂
            we can get pizza before!! there's a place next door
        """,
        "hike.answer": """
            train!! i'm not driving up those hills lol
            i can bring snacks!! and a thermos of tea ☕
            i have 2 bottles, i'll bring one for you!!
            let's eat at the top, picnic vibes ✨
            i'll bake something for the trail lol
        """,
        "decline_reply": """
            nooo ok next time then!!
            boo 😭 next time for sure
            we'll save you a dumpling lol
            ok but you're coming next time!!
        """,
        "pizza.take": """
            pineapple on pizza is elite and i will die on this hill 🍍
            ok but pineapple + chili + honey?? chef's kiss lol
            jonas has never even tried it!! he doesn't get a vote
            i put pineapple on my pizza just to annoy jonas lol
        """,
        "pizza.reply": """
            jonas you're so dramatic lol
            the people have spoken!! 🍍
            i'm making a pineapple pizza for your birthday jonas 😂
        """,
        "early.tease": """
            jonas is already there isn't he lol
            omg jonas how early were you this time 😭
            jonas has been standing at the entrance since yesterday lol
        """,
        "shortcut.react": """
            dan NO we're not doing your shortcut again 😭
            last time your shortcut took 2 hours lol
            i'm not climbing a fence again dan
        """,
        "greet": """
            hiii everyone!!
            omg hi hello
            hellooo 👋
            heyyy what's up
            hiii i'm back from the dead lol
            good evening besties ✨
            hi hi hi
            heyyy
        """,
        "morning": """
            good morning!! ☀️
            morning!! coffee is brewing and i'm ready to be a person soon
            gm lol i slept so well omg
            morning everyone 🥐
            good morninggg, who else is up this early
            morning!! it's a croissant kind of day
        """,
        "ack": """
            okie dokie
            yes yes
            sure thing!!
            okayyy
            ok ok
            yess
            got it!!
            noted lol
            okie 👍
            sounds good!!
            perfect
            love that
        """,
        "yes": """
            YES i'm in!!
            omg yes count me in
            i'm so in lol
            yesss 🙌
            obviously i'm coming!!
            say less i'm there
            i'm in!! what should i bring
            count me in ✨
        """,
        "no": """
            noooo i can't 😭 i'm working that day
            ugh i'm out, my cousin is visiting
            i can't this time!! have fun without me 😭
            nooo i have a shift, next time for sure
            omg i wish but i'm so booked that day
            i'm out sorry!! send pics
        """,
        "maybe": """
            maybe!! let me check my shifts
            probably? i'll know by tomorrow lol
            ooh maybe, depends how tired i am
            i'll try!! no promises lol
            maybe maybe maybe 👀
        """,
        "laugh": """
            i'm wheezing lol
            ok that's so funny 😂
            nooo lol
            LMAOOO
            lol stoppp
            omg 😭😭
            i'm crying lol
            HAHAHA no
            lol this is so you
            i can't 😂
            lollll
            dying 😭
        """,
        "agree": """
            literally yes
            omg exactly!!
            so true lol
            agreed!!
            facts
            this!!
        """,
        "disagree": """
            nooo i disagree lol
            hmm idk about that
            respectfully no lol
            absolutely not 😂
        """,
        "ask_time": """
            what time??
            ok what time are we thinking
            when should we meet?
            what time works for everyone!!
        """,
        "give_time": """
            {time}?? i can do {time}
            {time} works for me!!
            let's say {time} lol
            {time} and not a minute earlier 😂
        """,
        "confirm": """
            perfect!! see you then ✨
            yay it's a plan!!
            ok it's happening!!
            yesss can't wait
            locked in lol
        """,
        "thanks": """
            thank youuu!!
            omg thanks 🥹
            you're the best!!
            ty ty ✨
            thank u!!
        """,
        "late": """
            running 10 min late sorry!! 😭
            omg i'm so late, the bus just left without me
            be there in 15!! don't order without me
            i'm late but i'm bringing snacks as an apology lol
        """,
        "otw": """
            otw!!
            leaving now!! 🏃‍♀️
            on the bus, 10 min!!
            omw lol
        """,
        "here": """
            here!! where are you guys
            i'm here!! by the entrance
            made it lol
            here!! i'm the one in the yellow jacket 😂
        """,
        "night": """
            ok goodnight everyone!! 💤
            night night ✨
            i'm off to bed lol gn
            sleep time!! night besties
            gn!! love u all
        """,
        "hype": """
            omg yes!!
            LET'S GOOO
            this is so exciting!!
            i'm so hyped lol
            best news all week ✨
            yesss 🎉
        """,
        "sympathy": """
            nooo come here 🫂
            that's so rough omg, want me to bring soup?
            nooo that sucks 😭
            omg i'm so sorry!!
            sending hugs 🫂
            ugh that's the worst
            oh no!! are you ok?
            that's so unfair omg
        """,
        "tease": """
            lol of course you did
            classic {to} 😂
            this is so on brand
            not surprised at all lol
            why is this always you 😭
        """,
        "wow": """
            shut up!! no way
            wait wait wait what
            WAIT what
            omg no way
            stop that's amazing!!
            wow!!
            no wayyy
            omggg
        """,
        "checkin_ask": """
            how is everyone's week going!!
            ok roll call, how's everyone doing
            haven't heard from you guys in forever!! updates??
            what's everyone up to tonight
            who's alive lol
        """,
        "checkin_good": """
            i'm good!! work was chill and i made soup
            honestly great, i found a new cafe near work ☕
            pretty good!! just got back from a long walk lol
            so good, i had the best {food} for lunch
            amazing actually, i got a free upgrade at the gym lol
            good!! listening to {artist} on repeat as usual
        """,
        "checkin_bad": """
            tired lol, the cafe was packed all day
            ugh long day, my feet hurt so much
            meh, i burned my {dish} 😭
            kinda stressed!! too many shifts this week
            sleepy and hungry, the usual lol
        """,
        "busy": """
            sorry i've been mia!! work is insane
            i'm alive i promise lol, just busy
            this week is chaos omg
        """,
        "weekend_ask": """
            what's everyone doing this weekend!!
            weekend plans?? i need ideas lol
            ok who's free {day}
        """,
        "weekend_answer": """
            brunch with my cousin then a nap lol
            thrifting!! i need a new jacket
            making dumplings with my flatmates 🥟
            i'm trying a new {dish} recipe and then doing nothing lol
            farmers market on saturday!! then couch
            probably baking, gerald needs feeding lol
            i have a shift saturday but sunday i'm free!!
            {artist} listening party in my room lol
        """,
        "anyway": """
            ok anyway
            anywayyy
            random but
            changing the subject lol
            ok unrelated but
        """,
        "question": """
            who's coming to the market saturday!!
            does anyone want my extra concert ticket lol
            is it too early to put up fairy lights 👀
            wait is it {day} or next {day}?
            does anyone have a good umbrella i can borrow lol
            who wants to come to the market with me
            do we still have the group photo from last time??
            has anyone seen my blue scarf
        """,
        "bored": """
            i'm so bored someone entertain me lol
            bored at work, send memes
            i've reorganised my spice rack twice today
        """,
        "weather": """
            it's so sunny today!! ☀️
            the rain is so cozy ngl, soup weather 🍲
            it's freezing omg my hands
            perfect picnic weather!!
        """,
        "random": """
            i tried to make dumplings and they all exploded lol
            the cafe got a new espresso machine and i'm in love ☕
            i'm learning ukulele!! it's going terribly lol
            i just found the best bakery near the station omg
            why does every cafe play {artist} now lol
            i bought {thing} and i'm obsessed
            i made {dish} at midnight and regret nothing 😂
            the new {artist} album is on repeat!!
            someone at work said {food} is overrated and i'm still mad lol
            i want to learn to make fresh pasta this year!!
            i accidentally bought 3kg of lemons lol
        """,
        "food.propose": """
            omg has anyone been to {restaurant} yet?? i've seen their {food} and i'm losing it 😭
            ok i need {food}. {restaurant} on {day}??
            dinner at {restaurant} {day}!! who's in
            guys {restaurant} has a new menu and i'm losing it lol
            i'm craving {food} so bad, {restaurant} this week??
            food date!! {restaurant}, {day}, be there lol
        """,
        "food.order": """
            i'm getting the {food} no questions asked
            ok i already know i'm ordering two desserts lol
            their {food} with extra chili!! trust me
            i'll share a starter with whoever wants lol
        """,
        "food.report": """
            ok {restaurant} was SO good omg
            still thinking about the {food} lol
            10/10 would eat there every day!!
            i'm in a food coma but it was worth it 😭
            the dessert!! the dessert!!
        """,
        "food.brag": """
            just made {dish} from scratch and i'm never going back!!
            look at this {dish} omg 😭 i'm so proud
            made {dish} for the whole flat and they're obsessed lol
            new recipe unlocked: {dish}!! ✨
            my {dish} actually turned out right this time lol
            i made {dish} and it looks like the picture for once!!
        """,
        "food.react": """
            ok chef!!
            i need that in my life lol
            omg that looks amazing!!
            save me some!! 😭
            ok i'm hungry now lol
            wait that looks so good
            can you make that for me pls lol
        """,
        "food.recipe": """
            here!! {recipe_link} i added more garlic lol
            it's this one {recipe_link} but i doubled the butter 😂
            {recipe_link} it's so easy i promise!!
            recipe!! {recipe_link}
        """,
        "food.hungry": """
            i'm so hungry i could eat a whole pizza lol
            why did nobody tell me it's {food} day at work 😭
            thinking about {food} again lol
        """,
        "gerald.update": """
            gerald update: he's bubbling and thriving 🍞
            gerald is 2x his size today i'm so proud lol
            gerald smells like apples?? is that normal
            i forgot to feed gerald yesterday and he's sulking 😭
            gerald made his first real loaf!! look at this crumb omg
            gerald is going on holiday to my neighbour's fridge lol
            gerald update: he escaped the jar overnight 😭 the counter is a crime scene
            made focaccia with gerald!! he's a natural lol
            gerald turns {n} months old this week 🎂
        """,
        "gerald.react": """
            how old is gerald now lol
            omg gerald!!
        """,
        "music.share": """
            ok you all need to hear this {playlist_link} 🎶
            new playlist for the weekend!! {playlist_link}
            this song has been stuck in my head for 3 days lol {playlist_link}
            {artist} just dropped {song} and i'm crying 😭 {playlist_link}
            made a playlist for our next road trip!! {playlist_link}
            kitchen dancing music 💃 {playlist_link}
        """,
        "music.react": """
            omg this is a bop!!
            adding it to my playlist lol
            ok i see the vision 🎶
            this is so good omg
        """,
        "music.talk": """
            {artist} are so underrated omg
            i've listened to {song} like 40 times today lol
            the bridge in {song}!! the bridge!!
            {album} is their best album and i'll fight anyone lol
        """,
        "gig.propose": """
            omg {artist} are playing {venue} on {day}!! who's coming 🎶
            guys. {artist}. {venue}. tickets go on sale tomorrow!!
            i have a spare ticket for {artist} on {day}, who wants it!!
            {artist} announced a tour and they're coming HERE omg
        """,
        "gig.react": """
            omg yes i love them!!
            wait i need to go to this lol
        """,
        "gig.after": """
            last night was unreal!! my voice is gone lol
            they played {song} as the encore and i cried 😭
            best concert of my life omg
            still buzzing from last night ✨
        """,
        "chess.react": """
            i still only know how the horse moves lol
            omg go jonas!!
            is that good?? it sounds good lol
            chess king 👑
            i don't understand any of this but congrats!!
            the horse!! i know the horse lol
        """,
        "train.react": """
            nooo not again 😭
            the 7:42 strikes again lol
            jonas vs the 7:42, round 400
            omg that train hates you
            at this point just walk lol
        """,
        "train.trip_react": """
            omg that sounds so cute, send pics!!
            can i come lol
            train trips are so romantic honestly
            bring me back a snack from {city}!!
        """,
        "game.patch_react": """
            i understood none of this lol
            is that good or bad dan
            dan is speaking in tongues again 😂
            ok but does your guy have a cute hat now
        """,
        "game.ranked_react": """
            go dan!!
            omg congrats!! i think?? lol
            dan carrying again 💪
            nooo sorry dan 😭
        """,
        "game.night_propose": """
            game night at mine {day}!! i'll make snacks 🍿
            who wants to play {boardgame} this week!!
            ok i'm bored, {boardgame} tonight??
        """,
        "game.night_react": """
            yes!! i'll bring snacks lol
            i'm in but i'm terrible at {boardgame} 😂
            only if i'm on priya's team lol
        """,
        "game.after": """
            dan's face when he lost the longest road lol
            thank u for coming!! i have so many leftover snacks 😭
            i can't believe i won {boardgame} lol
            that was so fun omg, same time next week??
            jonas you were ruthless tonight 😭
        """,
        "hike.react": """
            omg yes i need nature!!
            i'm in if we stop for food after lol
            is it steep?? be honest 😭
            yesss i'll bring the snacks
            i'm in!! i just bought new boots lol
        """,
        "hike.early_react": """
            lol dan
            dan you can sleep on the train
        """,
        "hike.after_react": """
            omg the view!! 😍
            so pretty!! i'm jealous
            nature besties ✨
            wait that lake is gorgeous
        """,
        "hike.after": """
            my legs are jelly but that was so worth it!!
            we need to do that again!! the view omg
            i'm so sunburnt lol but happy
        """,
        "book.answer": """
            i'm reading a cookbook lol does that count
            {book}!! i'm halfway and obsessed
            i started {book} but i keep falling asleep 😭
            nothing rn, give me a rec!!
            an audiobook of {book} while i bake lol
        """,
        "book.react": """
            ooh that sounds good!!
            adding it to my list lol
            wait is that the one with the lighthouse
        """,
        "movie.propose": """
            movie night!! {movie}?? i'll make popcorn 🍿
            ok we need a movie night this week, suggestions!!
            who wants to watch {movie} with me lol
        """,
        "movie.suggest": """
            {movie}!! i've heard it's so cute
            something funny pls, i can't do sad rn lol
            ooh what about {movie}
        """,
        "movie.after": """
            i cried at the ending omg 😭
            that was so good!! 10/10
            ok the soundtrack was amazing lol
            i fell asleep halfway sorry 😂
        """,
        "trip.react": """
            omg yes!! {city}!! 😍
            i'm already packing lol
            the food in {city} though!! 🍜
            i need this trip so bad
        """,
        "trip.detail": """
            i made a list of all the bakeries lol
            we HAVE to try the pastries there!!
            i'll bring the speaker for the apartment 🎶
            can we do a food market day pls!!
        """,
        "trip.countdown": """
            {n} days!!! 😭✨
            i started packing lol don't judge
            who's bringing the snacks for the train!!
        """,
        "trip.live": """
            this pastry omg i'm never leaving {city} 🥐
            look at the view from the apartment!!
            dan got lost again lol
            best day ever!!
        """,
        "trip.recap": """
            i miss {city} already 😭
            can we go back tomorrow lol
            that trip was perfect!! thank you priya ✨
        """,
        "bday.wish": """
            HAPPY BIRTHDAY {to}!! 🎂🎉 love youuu
            happy birthday!! i made you a cake, it's in my fridge waiting lol 🎂
            happy birthday {to}!! ✨ best friend ever
        """,
        "bday.thanks": """
            omg thank you guys!! 😭🥹 love you all
            best birthday ever, thank youuu!!
            you guys are the best!! 🎂
        """,
        "help.ask": """
            ok i need help, what do i get my mum for her birthday
            does anyone know a good place to fix a bike?
            which plant is impossible to kill lol asking for me
            i need a new podcast!! recs pls
            should i get bangs. be honest lol
        """,
        "help.answer": """
            ooh get her a nice candle!! or cook her something
            {cafe} has a good one lol
            a cactus!! i've had mine for 2 years lol
            omg do it!!
        """,
        "work.complain": """
            the coffee machine at work broke and everyone is feral lol
            12 hour shift tomorrow 😭 pray for me
            a customer asked for oat milk in their tea and then complained it was oat milk lol
            my manager scheduled me for 6am again 😭
        """,
        "work.sympathy": """
            nooo that sounds awful 😭
            you deserve a nap lol
            want me to bring you cookies??
        """,
    },
    "Jonas": {
        "hike.answer": """
            The train is easier. There is one at {dep} from {station}.
            I have a spare bottle. I will bring it.
            I would suggest bringing lunch. The café at the top closes early.
            Right. I will bring {snack}, as usual.
        """,
        "decline_reply": """
            A pity. Next time, then.
            Understood. We will miss you.
            Right. We will report back.
        """,
        "pizza.take": """
            Pineapple does not belong on pizza. I will not be taking questions.
            To be fair, I have tried it. Once. It was a dark evening.
            Well, I maintain that fruit on pizza is a crime, regardless of the poll.
            Right. If we are ordering pineapple, I am ordering separately.
        """,
        "pizza.reply": """
            I am being outvoted in my own group chat. Noted.
            Hmm. That poll was clearly rigged.
            Well, history will prove me right.
        """,
        "early.here": """
            I am here. The doors open in forty minutes, which is fine.
            I have arrived. I appear to be early. Again.
            Right. I am here. I have already read the entire menu twice.
            I am at the station. I know. I know.
        """,
        "early.reply": """
            To be fair, the train might have been late. It was not, but it might have been.
            Well, being early is a form of respect.
            I simply do not trust public transport to be on time. Experience.
        """,
        "shortcut.react": """
            Dan, the last shortcut ended in a field with a very angry goose.
            Right. I am following the map, not Dan.
            I have printed the route. We are using the route.
        """,
        "greet": """
            Good evening, everyone.
            Hello all.
            Evening.
            Hello. I have returned from the depths of a very long week.
            Good evening. I trust everyone is well.
            Hi all.
        """,
        "morning": """
            Good morning.
            Morning. The coffee is working, slowly.
            Good morning, all. An early start today.
            Morning. I am on the train, which is, remarkably, on time.
        """,
        "ack": """
            Right, noted.
            That makes sense.
            All right.
            Understood, thank you.
            Right.
            Understood.
            Noted.
            Fair enough.
            Right, that works.
            Very well.
            Good.
            That seems sensible.
        """,
        "yes": """
            Well, I am free, so yes.
            I would like that.
            Yes. I will bring something.
            Count me in.
            I can make that work.
            Yes, I will be there.
            Right. I am in.
            That sounds excellent. I will come.
            Well, I have no plans, so yes.
            Gladly.
        """,
        "no": """
            Unfortunately I cannot make it this time.
            I am afraid I have a club match that day.
            Well, I would love to, but I am visiting my parents.
            Regrettably I am busy. Have a good time.
            I will have to pass, sorry. Next time.
        """,
        "maybe": """
            Possibly. Let me check my calendar.
            Perhaps. It depends on the trains.
            I will try. I cannot promise anything yet.
            Hmm. Maybe. I will confirm tomorrow.
        """,
        "laugh": """
            I have read this three times and I am still laughing.
            Very good. Very good indeed.
            Well, that is the best thing I have read all week.
            Ha. That is very good.
            I laughed out loud on the train. People stared.
            That is genuinely funny.
            Ha!
            Well, that made my evening.
            I am not laughing. (I am laughing.)
        """,
        "agree": """
            That is a fair point.
            Well, quite.
            I could not have put it better.
            I agree.
            To be fair, that is correct.
            Precisely.
            Well, I cannot argue with that.
            Agreed.
        """,
        "disagree": """
            I respectfully disagree.
            Hmm. I am not convinced.
            To be fair, I see it differently.
            Well, that is simply not true.
        """,
        "ask_time": """
            What time should we meet?
            Right. What time are we thinking?
            At what time, roughly?
            When exactly? I need to check the connections.
        """,
        "give_time": """
            I suggest {time}.
            {time} would suit me.
            Well, {time} works, if the trains cooperate.
            Shall we say {time}? I will be early, as usual.
        """,
        "confirm": """
            Excellent. See you then.
            Right. It is settled.
            Good, I have put it in my calendar.
            Splendid. Until then.
        """,
        "thanks": """
            Thank you, that is very kind.
            Thanks. Much appreciated.
            Thank you. Genuinely.
            Well, thank you.
        """,
        "late": """
            I am running about ten minutes late. The train is, naturally, delayed.
            Apologies, I will be a few minutes late.
            Signal failure. I will be there as soon as I can.
        """,
        "otw": """
            On my way.
            I have left. Arriving in roughly twenty minutes.
            On the tram now.
        """,
        "here": """
            I have arrived. I am by the door.
            I am here. Early, as usual.
            Here. I have taken a table by the window.
        """,
        "night": """
            Right. Goodnight, everyone.
            I am off to bed. Goodnight.
            Goodnight, all.
            Well, I have an early train. Goodnight.
        """,
        "hype": """
            Congratulations. Genuinely.
            Well done. That is excellent.
            Right. That deserves a celebration.
            That is excellent news.
            Well, that is wonderful.
            Splendid!
            That is genuinely exciting.
            Marvellous.
        """,
        "sympathy": """
            That sounds miserable. Is there anything I can do?
            Well, that is a rotten day. Tomorrow will be better.
            I am sorry. Do take it easy tonight.
            That sounds dreadful. I am sorry.
            Well, that is very unfair. Are you all right?
            I am sorry to hear that.
            That is rotten luck.
            Hmm. That sounds exhausting. Look after yourself.
        """,
        "tease": """
            Well, that is the least surprising news of the year.
            I am sure there is a perfectly reasonable explanation. There is not, but still.
            Well, that is very on brand.
            I am shocked. Shocked, I tell you.
            To be fair, we all saw this coming.
            Of course.
        """,
        "wow": """
            Really? Goodness.
            Well, that is unexpected.
            I had no idea.
            Goodness.
            Well, I did not expect that.
            Remarkable.
            Wait, really?
        """,
        "checkin_ask": """
            How is everyone's week going?
            Right. Status report, please. How is everyone?
            It has been quiet here. How is everyone doing?
        """,
        "checkin_good": """
            Well, I slept eight hours. I feel like a new man.
            Good, thank you. I won a bottle of wine at the club raffle.
            Quite good, thank you. I won both games at club.
            Well, I cannot complain. The trains were on time twice this week.
            Good. I finally finished reorganising my bookshelf.
            Rather good. I found a second-hand chess set at the flea market.
            Fine, thank you. Work is calm for once.
        """,
        "checkin_bad": """
            Tired. I played a five-hour game on Tuesday and lost it on move ninety.
            Well, the heating in my flat is broken. Otherwise fine.
            Tired. The 7:42 was cancelled twice this week.
            Well, it has been a long week. Too many meetings.
            Not brilliant. I lost a won position on Tuesday and I am still thinking about it.
            Hmm. Busy. Deadlines at work.
        """,
        "busy": """
            Apologies for the silence. Work has been relentless.
            I have been quiet, I know. Deadlines.
        """,
        "weekend_ask": """
            Does anyone have plans for the weekend?
            Right. What is everyone doing on {day}?
        """,
        "weekend_answer": """
            Laundry, a long lunch, and a chess book. Bliss.
            I am helping my brother paint his flat. Pray for me.
            A walk along the old railway line, weather permitting.
            Well, there is a model railway exhibition. I am going. Without shame.
            Well, there is a rapid tournament on saturday. Otherwise nothing.
            I intend to do absolutely nothing, which I have earned.
            A day trip by train, if the weather holds.
            Chess club, then laundry. Very glamorous.
            I am visiting my grandmother. She will beat me at cards again.
        """,
        "anyway": """
            Anyway.
            Right. On a different note.
            To change the subject entirely:
            Well, moving on.
        """,
        "question": """
            Does anyone want to come to a model railway exhibition? No pressure.
            Is anyone free for lunch on friday?
            Does anyone have a good recipe for soup? Maya excepted; I know you do.
            Is anyone else going to the flea market on sunday?
            Does anyone have a spare bicycle pump?
            Quick poll: tea or coffee after nine in the evening?
            Does anyone know when the new tram line opens?
            Does anyone still have my umbrella? The green one.
            Quick question: is the museum open on mondays?
            Has anyone tried the new bakery on the corner?
            Does anyone know a decent tailor?
        """,
        "bored": """
            I am on a train with no signal and no book. Entertain me.
            Well, I am bored. Someone say something interesting.
        """,
        "weather": """
            It is raining again, which is consistent, if nothing else.
            Well, it is lovely out today. Unusual.
            It is bitterly cold. I have found my winter coat.
            The heat on the train today was unbearable.
        """,
        "random": """
            Well, the station has new benches. They are worse.
            I have been asked to join a second chess club. I said yes. I have a problem.
            I spoke to a train driver today. He was very patient with my questions.
            Well, I have bought a houseplant. I have named it Bishop.
            The ticket machine at the station now talks. I am not sure how I feel about it.
            I tried to bake bread. Gerald need not worry about the competition.
            I found a chess problem from 1912 that nobody in my club can solve.
            Right. I have reorganised my bookshelf by colour. It is chaos and I love it.
            I have started learning a new opening. It is going badly.
            Did you know the longest direct train in Europe takes over two days? I want to take it.
            I have bought a timetable from 1987 at a flea market. It is fascinating.
            Well, I finally fixed my bicycle. It only took three months.
            I watched a documentary about signal boxes last night. Highly recommended.
            My neighbour has taken up the trumpet. I am not coping.
            I have been reading about the history of the sleeper train. Genuinely riveting.
            I have started doing a chess puzzle every morning before work.
        """,
        "food.propose": """
            Well, {restaurant} finally opened. Shall we try it on {day}?
            I have heard good things about the {food} at {restaurant}. Dinner, perhaps?
            Right. It has been too long. Dinner at {restaurant} on {day}?
        """,
        "food.order": """
            I will have the {food}. I have read the menu three times already.
            I shall be conservative and order the {food}.
            I am told the {food} is the thing to get.
        """,
        "food.report": """
            Well, that was excellent. I would go back.
            To be fair, I would go back for the {food} alone.
            A good evening. The service was slow, but the food made up for it.
        """,
        "food.react": """
            That is a work of art.
            Well, I would eat that.
            To be fair, that looks restaurant quality.
            That looks genuinely impressive.
            Well, that looks better than anything I have ever cooked.
            Impressive. Recipe?
            I would like some of that, please.
        """,
        "food.hungry": """
            I have eaten a sad sandwich at my desk. Again.
            I am hungry and the canteen has run out of soup.
        """,
        "gerald.react": """
            How is Gerald? I feel we should get regular updates.
            Gerald is thriving. Good for him.
            To be fair, Gerald has better discipline than I do.
            Well, Gerald is clearly the most productive member of this group.
            Give Gerald my regards.
        """,
        "music.react": """
            Well, I have played it twice now. It is growing on me.
            This is pleasant. Good train music.
            Hmm. This is rather good, actually.
            I listened to it on the train. I approve.
            Well, it is not my usual thing, but I like it.
            Added to my very small playlist.
        """,
        "gig.react": """
            I do not know them, but I am happy to come along.
            Is it seated? I am asking for my knees.
            Right. How would we get back? The last train is at 23:40.
        """,
        "chess.report": """
            I played in a rapid tournament today. Four wins, one draw.
            Well, I drew against a 1900 today. I am unreasonably pleased.
            I lost to a twelve-year-old at club. He was very polite about it.
            Right. My rating is now {rating}. A new personal best.
            I finally won with {opening}. It only took two years.
            To be fair, I blundered my queen on move eleven and still won. Chess is strange.
            Club championship next week. I am playing {opening} and hoping for the best.
            I spent my lunch break analysing a game from 1953. Worth it.
        """,
        "chess.puzzle": """
            Puzzle for the group. White to move and win: {chess_link}
            Right. Today's puzzle is a lovely one: {chess_link}
            Well, this took me twenty minutes. Good luck: {chess_link}
        """,
        "chess.accept": """
            Right. Rematch accepted. Same time as usual?
            Well, if you insist on losing again, I am available at nine.
            To be fair, you did win last time. Once. Tonight at nine.
            Very well. Bring your best opening.
        """,
        "chess.win": """
            Well, that was a good game. Thank you, Dan.
            Checkmate in thirty-one moves. A tidy game, if I may say so.
            Right. That is 14 to 3 overall, for the record.
        """,
        "chess.lose": """
            Well played, Dan. I did not see the knight fork.
            Hmm. I have no excuses. That was a genuinely good game from you.
            Right. I will be analysing this until 2am.
        """,
        "chess.explain": """
            The horse is called a knight, Maya.
            It is fairly good, yes. Thank you.
            Well, it means I am slowly getting less bad.
        """,
        "train.late": """
            The 7:42 is late again.
            Well, the 7:42 has been cancelled. Again.
            Signal failure at {station}. I am going to be late for work, naturally.
            The 7:42 is twenty minutes late. I have started a spreadsheet of its delays.
            Right. The 7:42 arrived on time today. I do not trust it.
            Today the 7:42 was replaced by a bus. The bus was also late.
            The 7:42 was early today and left without me. I feel betrayed.
        """,
        "train.fact": """
            To be fair, it is usually the freight traffic at {station}.
            The delays are mostly on the single-track section after {station}.
            Well, my spreadsheet says it has been late {n} days out of five this month.
        """,
        "train.trip": """
            I am taking the train to {city} this weekend. Seven hours, with one change.
            Right. I have booked the sleeper to {city}. I am absurdly excited.
            Well, there is a new direct connection to {city}. I have to try it.
            I am planning a day trip to {city}. The scenic route, obviously.
        """,
        "train.route": """
            The plan:\\nthe {dep} from {station} on the {line}\\nchange at Riverton\\narrive in {city} around lunchtime
            Right, for those interested:\\nleave {station} at {dep}\\n{line} to the border\\nthen the slow line along the river, which is the whole point
            Itinerary, since someone will ask:\\n1. {line} from {station}\\n2. Twenty minutes to change, which is generous\\n3. Lunch in {city}
        """,
        "train.photo": """
            The view from the window right now. Worth every minute.
            We are crossing the viaduct. I may be the happiest person on this train.
            Arrived in {city}. Exactly on time. I could weep.
        """,
        "game.patch_react": """
            Right. So your character is now weaker. I am sorry for your loss.
            Is this the same game as last week, or a different one?
            I understood perhaps a third of that.
            Well, that sounds like a significant change.
            What is a nerf, exactly?
            To be fair, it does sound unbalanced.
        """,
        "game.ranked_react": """
            Congratulations. I assume that is good.
            Well done, Dan.
            Hmm. Is that like a rating? What is it in chess terms?
            Right. Commiserations. Tomorrow is another day.
        """,
        "game.night_propose": """
            Shall we have a games night? I can bring {boardgame}.
            Right. {boardgame} at mine on {day}? I will provide tea.
        """,
        "game.night_react": """
            I will bring {boardgame}. And I will be competitive about it.
            Count me in, provided we play properly this time.
            I am in. I have been practising.
        """,
        "game.after": """
            Well played, everyone. I will be thinking about that last round all week.
            I maintain that the rules were on my side. Thank you for a lovely evening.
            Right. Same time next week; I am bringing a better strategy.
            Well, that was a very good evening. Thank you for hosting.
            To be fair, I only won because Dan traded me all his sheep.
            Right. I demand a rematch next week.
        """,
        "hike.react": """
            I am in. There is a train at {dep} from {station} that gets us there.
            Well, it depends on the weather, but yes.
            Count me in. How long is it?
            Right. I will check the connections.
            I will come. I have finally bought proper boots.
        """,
        "hike.after_react": """
            That is a fine view.
            Well, that looks worth the climb.
            Beautiful. I am slightly jealous.
        """,
        "hike.after": """
            Well, my legs have filed a formal complaint. Good day, though.
            Right. That was excellent. Same time next month?
            To be fair, the last hill was unnecessary. The view was not.
        """,
        "book.answer": """
            I am reading a history of European railways. It is 900 pages and I regret nothing.
            {book}, on Priya's recommendation. It is very good so far.
            A chess endgame manual. I am aware that is not a real answer.
            Well, I have just finished {book}. The ending was clever.
            Nothing at the moment. I am open to recommendations.
        """,
        "book.react": """
            Well, that sounds like my kind of book.
            I have heard of that author. I will try it.
            That sounds promising. I will look for it.
            Hmm. Is it long? I only read on the train.
            Well, I will add it to the list. The list is long.
        """,
        "movie.propose": """
            Shall we have a film evening? I propose {movie}.
            Right. We have not watched anything together in weeks. {day}?
        """,
        "movie.suggest": """
            I suggest {movie}. I have heard it is clever.
            Well, anything without a train crash. The physics always bother me.
            To be fair, {movie} is meant to be excellent.
        """,
        "movie.after": """
            Well, that was better than I expected.
            To be fair, the plot had holes, but I enjoyed it.
            The train scene was entirely unrealistic. Otherwise good.
        """,
        "trip.react": """
            {city} is a good choice. The train connections are excellent.
            Well, I am in. I will handle the trains.
            Right. I have already looked at the timetables.
        """,
        "trip.detail": """
            I can book the train tickets if someone sends me everyone's dates.
            There is a night train option, for the record. It would be an adventure.
            I will bring a travel chess set, in case of rain.
        """,
        "trip.countdown": """
            {n} days. I have printed the tickets, just in case.
            Right. Reminder: the train leaves at {dep}. Please do not be late.
        """,
        "trip.live": """
            The train was on time. I want that noted.
            Well, the view from the castle is excellent.
            I have found a chess café. I may not come back.
        """,
        "trip.recap": """
            Thank you all. That was a genuinely wonderful trip.
            Well, I would do it again tomorrow. Thank you, Priya, for organising.
        """,
        "bday.wish": """
            Happy birthday, {to}. I hope it is a splendid day.
            Happy birthday! Many happy returns.
            Happy birthday, {to}. Cake is on me next time.
        """,
        "bday.thanks": """
            Thank you, everyone. That is very kind.
            Well, thank you all. I am genuinely touched.
        """,
        "help.ask": """
            I need advice: what does one bring to a housewarming?
            Right. Does anyone know how to get red wine out of a carpet?
            Can anyone recommend a podcast for long train journeys?
        """,
        "help.answer": """
            Well, I would ask someone who knows. Which is not me.
            In my experience, the simple option is usually the right one.
            Well, I would start with the obvious option and go from there.
            To be fair, that has always worked for me.
            I would ask at {cafe}; they seem to know everyone.
        """,
        "work.complain": """
            Three meetings today that could each have been an email.
            Well, the printer at work is on fire. Not literally. Almost literally.
            I have been asked to present on Friday. I am not thrilled.
        """,
        "work.sympathy": """
            That sounds exhausting. Do rest this evening.
            Well, that is not acceptable. I hope tomorrow is better.
        """,
    },
    "pixel_dan": {
        "hike.answer": """
            train, i'm not driving at 8am
            i'll bring {snack} i guess
            eat at the top, i'm not carrying a whole lunch up a mountain
            i got a water bottle somewhere, maybe
        """,
        "decline_reply": """
            L, next time
            unlucky bro
            ur loss fr
        """,
        "pizza.take": """
            pineapple on pizza is fine, fight me
            chaos option: pineapple AND anchovies
            i don't care i just want 2 pizzas
            bro it's fruit on bread, chill 💀
        """,
        "pizza.reply": """
            jonas lost the pizza war lmao
            pineapple gang W
            this is the most heated this chat has ever been 💀
        """,
        "early.tease": """
            jonas been there since 6am fr
            bro lives at the station
            jonas speedrunning being early again
        """,
        "shortcut": """
            trust me bro i know a shortcut
            ok hear me out. shortcut through the park
            my shortcut saves 10 min, trust
            shortcut time, follow me
        """,
        "shortcut.cope": """
            ok the goose was one time
            it would've worked if the gate was open 💀
            fine. map. boring but fine
        """,
        "greet": """
            yo
            yo what's good
            sup nerds
            yo chat
            wassup
            yooo
        """,
        "morning": """
            why is everyone awake
            gm i guess
            morning bro i slept 4 hours
            up early for once 💀
        """,
        "ack": """
            ok
            sure
            bet bet
            sounds good bro
            bet
            ok bro
            aight
            say less
            kk
            fair
            true
            gotcha
        """,
        "yes": """
            i'm down fr
            yeah i'm in
            ok i'm there
            i'm in
            bet i'm there
            yeah sure why not
            say less 🔥
            down
            ofc bro
        """,
        "no": """
            can't bro i got a tournament
            nah i'm out this time
            i'd come but i'm broke til payday 💀
            can't, family stuff
        """,
        "maybe": """
            maybe, depends on the queue lol
            prob? idk yet
            lemme see
        """,
        "laugh": """
            bro i'm crying
            the way i laughed 💀
            lmao stop
            LMAO
            💀💀💀
            bro 😭
            i'm dead
            lmaooo
            nah that's crazy 💀
        """,
        "agree": """
            true true
            no lies detected
            based
            fr
            real
            facts
            100%
            ngl yeah
        """,
        "disagree": """
            nah
            cap
            bro no 💀
            hard disagree ngl
        """,
        "ask_time": """
            what time tho
            when
            time?
        """,
        "give_time": """
            {time} works
            {time} but i might be late ngl
            ok {time}
        """,
        "confirm": """
            bet see u then
            locked in
            aight it's a plan
        """,
        "thanks": """
            ty bro
            appreciate it
            thx 🙏
        """,
        "late": """
            bro i'm gonna be late 💀
            5 min (it's 15 min)
            overslept sorry
        """,
        "otw": """
            omw
            leaving now fr
            on the bus
        """,
        "here": """
            here where u at
            i'm outside
            pulled up
        """,
        "night": """
            gn
            aight i'm out, gn
            one more game then bed (lie)
            night nerds
        """,
        "hype": """
            massive
            let's go fr
            that's hype
            LET'S GOOO
            W
            huge
            that's a W fr
            sheeeesh
        """,
        "sympathy": """
            that's so mid, sorry bro
            damn. u good?
            sending good vibes or whatever
            damn bro that sucks
            L, sorry
            unlucky fr
            that's rough ngl
        """,
        "tease": """
            skill issue 💀
            bro really said that
            {to} moment
            ratio
        """,
        "wow": """
            hold up
            bro what 💀
            since when
            no way
            bro what
            that's crazy
            wait fr?
        """,
        "checkin_ask": """
            chat is dead
            yo anyone on
            u guys alive
        """,
        "checkin_good": """
            chillin, hit {rank} last night
            good, new controller arrived 🔥
            not bad ngl, work was easy
        """,
        "checkin_bad": """
            tired bro, queued til 3am
            lost 6 games in a row 💀
            work was mid ngl
        """,
        "busy": """
            been grinding sorry
            work + ranked = no life
        """,
        "weekend_ask": """
            anyone doing anything this weekend
            what's the plan for {day}
        """,
        "weekend_answer": """
            helping my brother move, rip my back
            tournament on saturday, wish me luck
            trying to finish {game} before the dlc drops
            might go to the arcade, who's in
            ranked grind obviously
            sleep. then games. then sleep
            lan party at my cousin's
            nothing bro, hmu if u do something
        """,
        "anyway": """
            anyway
            unrelated but
            ok but
        """,
        "question": """
            anyone tried the new burger place
            who's watching the finals on sunday
            is it normal for a pc to smell like toast
            anyone got a spare hdmi cable
            is the pizza place on 5th still open late
            who took my hoodie last time
        """,
        "bored": """
            bored. someone queue with me
            servers are down so i have to go outside 💀
        """,
        "weather": """
            it's hot bro my pc is overheating
            rain = gaming weather
            too cold to leave the house fr
        """,
        "random": """
            my controller drift is so bad my guy walks by himself now
            bro i fell asleep in a queue and got banned for 10 min 💀
            learned to cook one (1) pasta, chef era
            my pc fan sounds like a jet engine now 💀
            just found out there's a pizza place open til 4am, life changed
            my little cousin beat me in {game}, retiring
            new mouse pad is so big it covers my whole desk fr
            ngl i beat {game} in one sitting
            bro my cat unplugged my router mid game 💀
            i built a new pc and it's so quiet it's scary
            found a 2 euro coin in my old controller lol
            i think i'm addicted to energy drinks ngl
            speedrunning {game} rn, chat don't talk to me
            bought a new keyboard, it's so clicky my neighbour hates me
        """,
        "food.propose": """
            bro {restaurant} does {food} now. we going or what
            food? {restaurant} {day}
            i need {food}, who's coming
        """,
        "food.order": """
            double portion obviously
            whatever's biggest
            {food} x2
        """,
        "food.report": """
            {restaurant} was fire ngl
            the {food} there? elite
            food coma, can't move
        """,
        "food.react": """
            ok chef
            yo that's actually elite
            bro can i come over
            bro share
            that looks fire ngl
            save me some fr
            W food
        """,
        "food.hungry": """
            i'm eating cereal for dinner again 💀
            delivery guy knows my name now
        """,
        "gerald.react": """
            gerald W
            gerald has more aura than me
            long live gerald
            gerald is the fifth member of this chat fr
            gerald fumbling the bag 💀
        """,
        "music.react": """
            lowkey a banger
            not bad maya
            this would go hard in a montage
            kinda fire ngl
            this slaps
            ok maya has taste
            added
        """,
        "gig.react": """
            is there a mosh pit
            i'm down if the tickets aren't crazy
            never heard of them but i'm in
        """,
        "chess.rematch": """
            @Jonas rematch tonight?
            @Jonas i've been studying. rematch
            jonas u scared? rematch
            @Jonas chess. tonight. i'm locked in
        """,
        "chess.react": """
            jonas is a final boss irl
            ok but can u beat a computer
            nerd (respectfully)
            jonas is built different
            ok chess god
            bro is the magnus of this group chat
            i still want my rematch
        """,
        "chess.gloat": """
            W. told u i'd been studying
            jonas in shambles 💀
            GG EZ (it was not ez)
        """,
        "chess.cope": """
            gg i threw
            bro saw 10 moves ahead, not fair
            next time fr
        """,
        "train.react": """
            the 7:42 is the final boss
            just get a bike bro
            that train has it out for u 💀
            jonas vs the 7:42, who wins
        """,
        "train.trip_react": """
            7 hours on a train is crazy
            bring a switch at least
            have fun bro
        """,
        "game.patch": """
            {game} patch {patch} just dropped and they nerfed {hero} into the ground 💀 {patch_link}
            bro read these patch notes {patch_link} they buffed {hero} AGAIN
            patch {patch} is out, {hero} is unplayable now ngl
            new {game} patch, ranked is gonna be chaos
            patch notes for {patch} are insane:\\n- {hero} buffed\\n- matchmaking "improved" (lie)\\n- new map finally\\n{patch_link}
            they reverted the {hero} nerf lmao devs are clueless
        """,
        "game.patch_explain": """
            nerf = they made him weaker. a lot weaker
            bro it's like if they took the queen away in chess
            basically my main is dead now 💀
            it's good for me bad for everyone else lol
        """,
        "game.ranked": """
            finally hit {rank} in {game} 🔥
            lost 5 in a row and dropped to {rank} 💀
            ranked teammates are something else fr
            one more game then bed
            placed {rank} this season, not bad ngl
            carried a game with {hero}, clip incoming
        """,
        "game.onemore": """
            one more game
            ok actually one more
            last game i swear
            bro it's 3am how
        """,
        "game.release": """
            {game} 2 announced and i'm not ok
            {game} releases {day}, i'm taking the day off fr
            bro the {game} trailer is insane
        """,
        "game.night_propose": """
            online game night? {game} tonight
            yo who's up for {game}, i'll carry
        """,
        "game.night_react": """
            i'm in
            bet, i'll bring the controllers
            only if no one flips the board this time 💀
        """,
        "game.after": """
            i was robbed fr
            ok that was actually fun ngl
            gg everyone
            jonas played like a villain tonight 💀
            rematch next week, no excuses
        """,
        "hike.react": """
            how early we talking
            do i have to walk up a mountain
            i'm in if there's food at the top
            bet but i'm not waking up before 8
        """,
        "hike.early_complaint": """
            {mtime} on a saturday should be illegal 💀
            bro that's before sunrise
            who hurt u priya
            i'll come but i'm sleeping on the train
        """,
        "hike.after_react": """
            ok i'm jealous ngl
            that view is crazy
            ok that's actually fire
            nature W
            touch grass arc
        """,
        "hike.after": """
            my legs are cooked
            ngl that was worth it
            i saw a deer, best part fr
        """,
        "book.answer": """
            does a wiki count
            the {game} lore book, 400 pages
            nah i'm waiting for the movie
            i read the patch notes, that's a book
        """,
        "book.react": """
            sounds long
            maybe i'll audiobook it
            is there a movie
        """,
        "movie.propose": """
            movie tonight? {movie}
            we watching something or what
        """,
        "movie.suggest": """
            {movie}, the action scenes are crazy
            something with explosions pls
            anything but a musical 💀
        """,
        "movie.after": """
            mid ngl
            that twist was crazy
            10/10 explosions
        """,
        "trip.react": """
            {city} W
            i'm in, i'll bring the switch
            as long as i'm not sharing a room with jonas's snoring
        """,
        "trip.detail": """
            i'll bring the speaker and a switch
            do we need a car or nah
            i'm on snack duty i guess
        """,
        "trip.countdown": """
            {n} days bro
            i haven't packed anything 💀
        """,
        "trip.live": """
            got lost. found a cool arcade tho
            bro the food here is elite
            jonas is talking to a train conductor, we lost him
        """,
        "trip.recap": """
            best trip fr
            post-holiday depression is real
        """,
        "bday.wish": """
            hbd {to} 🎉
            happy birthday bro
            hbd!! W day
        """,
        "bday.thanks": """
            ty guys fr
            appreciate u all
        """,
        "help.ask": """
            anyone know how to fix a sticky key
            need a gift idea for my sister, she likes horses??
            which headphones should i get, budget 100
        """,
        "help.answer": """
            ngl just google it
            ask reddit
            i got a guy for that
        """,
        "work.complain": """
            my boss scheduled a meeting at 5pm on friday 💀
            work was so slow i counted ceiling tiles
            they put me on the weekend shift again
        """,
        "work.sympathy": """
            that's rough bro
            quit and go pro gamer with me
        """,
    },
    "Priya": {
        "roll.intro": """
            Okay, the dice decide haha
            I'm rolling for it, no complaints after
            Let the goblin choose
            Fine, dice time
        """,
        "hike.ask_time": """
            What time can everyone be ready by?
            Is an early start okay? Like {mtime}?
            What time should we leave so we're back before dark?
        """,
        "decline_reply": """
            Aw next time!
            No worries, we'll do another one soon
            Okay we'll send photos haha
        """,
        "pizza.take": """
            Pineapple is fine tbh, I just don't want olives
            Can we just get half and half like adults haha
            Okay I'm making a poll, this has gone on long enough
        """,
        "pizza.reply": """
            The poll has spoken haha, 3 to 1
            Jonas I'll order you a plain margherita, don't worry
            Why is this the longest conversation we've had all week haha
        """,
        "early.tease": """
            Jonas are you there already? haha
            Classic Jonas, how long have you been waiting?
            Should we just tell Jonas a later time next time?
        """,
        "shortcut.react": """
            Dan we are NOT doing the shortcut
            Haha remember the goose?
            Okay but last time we ended up in someone's garden
        """,
        "greet": """
            Hi everyone!
            Hey hey
            Hiii how's everyone
            Hello friends
            Hey! Long time no chat haha
        """,
        "morning": """
            Morning! Anyone else up early?
            Good morning! Already had my walk haha
            Morning friends, how did everyone sleep?
        """,
        "ack": """
            Okay noted!
            Makes sense
            Got it, thanks
            Sure!
            Okay!
            Sounds good
            Perfect
            Noted haha
            Great
            Okay cool
            Love it
        """,
        "yes": """
            Yes, I'm free!
            Oh I'd love that
            I'm so in tbh
            Sounds fun, yes!
            I'm in!
            Yes please
            Count me in haha
            Definitely!
            Yes! What should I bring?
        """,
        "no": """
            Ah I can't that day, sorry!
            I'm out this time tbh, too much going on
            Noo I have a work thing, next time?
            Can't make it sadly, have fun!
        """,
        "maybe": """
            Maybe? Let me check
            Possibly! Can I confirm tomorrow?
            Depends on the weather tbh
        """,
        "laugh": """
            Haha I can't
            Okay that's funny haha
            Haha why is this so accurate
            Hahaha
            Haha stop
            Omg haha
            I'm dying haha
            Hahaha this is so good
        """,
        "agree": """
            Yes! Thank you
            Completely agree haha
            Exactly what I was thinking
            Agreed!
            Same tbh
            Yes exactly
            Honestly true
        """,
        "disagree": """
            Hmm not sure tbh
            I don't know about that haha
            Nope, hard disagree
        """,
        "ask_time": """
            What time works for everyone?
            Okay so what time?
            Morning or afternoon?
            Should we say a time now so it actually happens?
        """,
        "give_time": """
            How about {time}?
            {time} works for me!
            {time}? Or is that too late?
        """,
        "confirm": """
            Perfect, it's in the calendar!
            Great, see you all then!
            Okay it's a plan haha
            Yay, can't wait!
        """,
        "thanks": """
            Thank you!
            Aw thanks!
            Thanks so much haha
        """,
        "late": """
            Running 5 min late, sorry!
            Stuck in traffic, start without me?
        """,
        "otw": """
            On my way!
            Leaving now!
        """,
        "here": """
            Here! Where are you?
            I'm here, by the fountain
        """,
        "night": """
            Night everyone!
            Okay bedtime, night!
            Goodnight friends
        """,
        "hype": """
            Oh that's so good!
            Yay, congrats!
            Okay this made my day
            Yay!
            This is so exciting!
            Amazing!!
            Love this for us
        """,
        "sympathy": """
            Oh no, do you need anything?
            That sounds rough, hope tomorrow's better
            Aw, want to get coffee and vent?
            Oh no, are you okay?
            That's awful, I'm sorry
            Ugh that sucks, want to talk?
            Sending love
        """,
        "tease": """
            Haha of course
            Why am I not surprised haha
            Classic {to}
        """,
        "wow": """
            Wait really?
            How??
            No way, since when?
            Wait what?
            No way!
            Wow!
            Seriously?
        """,
        "checkin_ask": """
            How's everyone doing this week?
            Checking in! How is everyone?
            What's everyone up to tonight?
            Okay quick round, what's the best thing that happened this week?
        """,
        "checkin_good": """
            Honestly good, I did a sunrise walk and it reset my brain
            Not bad! Just booked a weekend away
            Good! I finally cleaned my flat haha
            Pretty good! Went for a run this morning
            Good tbh, finally finished {book}
            Really good, work is calm and I booked a trip haha
            Great! The weather's been perfect for walks
        """,
        "checkin_bad": """
            Tired tbh, didn't sleep well
            A bit overwhelmed, but the weekend is close
            Long day, I need a walk
            Honestly a bit tired, long week
            Meh tbh, my project is dragging
            Stressed haha but surviving
        """,
        "busy": """
            Sorry I've been quiet, work has been a lot
            Hi I'm alive haha, just swamped
        """,
        "weekend_ask": """
            What's everyone doing this weekend?
            Anyone free {day}? I want to do something outside
            Weekend plans?
        """,
        "weekend_answer": """
            A long run on saturday and then nothing at all
            My cousin's wedding, so lots of dancing haha
            Farmers market and then reading in the park?
            I'm going to try the new climbing gym!
            Deep cleaning my flat haha, exciting
            Probably a hike if the weather holds!
            Book club and then a long walk
            Visiting my sister, she just moved
            Nothing planned tbh, open to ideas!
        """,
        "anyway": """
            Anyway!
            Okay different topic
            Random question
        """,
        "question": """
            Has anyone been to the night market yet?
            Who wants to do a sunrise hike sometime? Be honest haha
            What should I cook for six people?
            Has anyone seen the new exhibition at the museum?
            Who's free for a picnic next weekend?
            Do we want to do secret santa again this year?
            Can someone remind me what we decided about the cabin?
            Is the lake warm enough for swimming yet?
            Does anyone have a camping stove I could borrow?
            Is anyone free for a coffee next week?
            Has anyone been to the new climbing gym?
            Wait did we ever pay Jonas back for the tickets?
        """,
        "bored": """
            Rainy day, I've read 200 pages haha
            Bored, anyone want to get coffee?
        """,
        "weather": """
            It's so nice out! Who wants to go for a walk?
            Rain all weekend apparently, so much for the hike
            Finally some sun!
        """,
        "random": """
            I finally tried the bakery Maya keeps talking about, she was right
            I went for a swim in the lake and it was freezing haha
            I planned my whole month in a spreadsheet and I feel powerful
            I finally fixed my bike, only took three youtube videos haha
            The library had a book sale and I have no self control
            Tried a pottery class, my bowl is more of a plate tbh
            I've been waking up at 6 to walk before work and I kind of love it
            Someone in my building is learning the violin and honestly they're getting better
            My sister sent me a photo of her new puppy and I can't focus on anything else
            I joined a bouldering class, I can't feel my arms haha
            I've decided to read 40 books this year, is that too many?
            I made a spreadsheet of every trail within two hours of here haha
            My plant is finally growing a new leaf!
            I tried a new tea and now I'm a tea person tbh
            Found a secondhand bookshop that has a cat, it's perfect
        """,
        "food.propose": """
            Anyone up for {restaurant} on {day}? I've heard amazing things about their {food}
            Dinner this week? I was thinking {restaurant}
            Should we do a group dinner soon? Maybe {restaurant}?
        """,
        "food.order": """
            I'm getting the {food}, I've been thinking about it all day
            Should we just order a bunch and share?
        """,
        "food.report": """
            That was so good, thank you for organising!
            Okay {restaurant} is my new favourite tbh
        """,
        "food.react": """
            Is that homemade?? Teach me
            Okay I'm coming over haha
            How long did that take?
            Wait that looks so good, what recipe?
            Omg can you teach me?
            That looks amazing!
        """,
        "food.hungry": """
            Why am I always hungry at 4pm haha
        """,
        "gerald.react": """
            How is Gerald doing?
            Gerald looks great haha
            Can I borrow some of Gerald?
            Go Gerald!
            Is Gerald coming on the trip too? haha
        """,
        "music.react": """
            Who is this? I love it
            The second song is so good!
            Perfect for my commute haha
            Ooh this is nice!
            Love it, adding it to my running playlist
            Okay this is good haha
        """,
        "gig.react": """
            Yes! How much are tickets?
            I'm in! Should we get dinner before?
            I don't know them but I trust Maya haha
        """,
        "chess.react": """
            Who did you play against?
            How many games was that?
            Jonas that's so cool, can you teach me sometime?
            Congrats Jonas! Was it close?
            Wait that's amazing!
            How long was the game?
            Haha I love how serious this is
        """,
        "train.react": """
            Have you thought about the bus? haha
            Oh no, again? How late?
            At this point it's personal tbh
            That train is cursed tbh
            Did you make it to work on time?
            Haha the spreadsheet is back
        """,
        "train.trip_react": """
            That sounds lovely! Are you staying overnight?
            Ooh send photos!
            Can you check if there's a good bookshop there?
        """,
        "game.patch_react": """
            Dan how long have you been awake? haha
            Is that why you were up so late?
            So is it better or worse now?
            Is that good for you?
            Haha I have no idea what this means
            Wait who is {hero}?
        """,
        "game.ranked_react": """
            Congrats!
            Is that good? It sounds good haha
            Oh no, go to sleep Dan
        """,
        "game.night_propose": """
            Game night this week? I can host!
            Should we do {boardgame} on {day}?
        """,
        "game.night_react": """
            Yes! I'll bring snacks
            I'm in! Can we play {boardgame}?
            Only if Jonas promises not to be too competitive haha
        """,
        "game.after": """
            Okay I'm writing down the scores this time haha
            Same time next month? I'll host
            That was so fun, same time next week?
            I still think the rules were unclear haha
            Good game everyone!
        """,
        "hike.propose": """
            Who's up for a hike on {day}? I was thinking {trail}
            Hike this weekend? {trail} is about {km} km, not too hard I promise
            Okay it's finally nice out. {trail} on {day}?
            I found a new trail! {trail_link} Anyone want to try it {day}?
            Should we do {trail} again? It's been ages
        """,
        "hike.ask": """
            Should we meet at the station or drive?
            Does anyone have a spare water bottle?
            Should we bring lunch or eat at the café at the top?
            Who's bringing snacks?
        """,
        "hike.plan": """
            Okay plan:\\n- meet at {station} at {mtime}\\n- train out, about an hour\\n- {trail}, {km} km\\n- lunch at the top\\nAnyone have questions?
            So the plan is:\\n{mtime} at {station}\\nbring water, {snack} and a rain jacket\\nback by 6 hopefully
            Plan for {day}!\\n1. meet {mtime} at {station}\\n2. {trail}, {km} km loop\\n3. food after, Maya picks haha
        """,
        "hike.reassure": """
            There's a café halfway, I checked haha
            We'll go at your pace Dan, promise
            Haha it's fine Dan, you can nap on the train
            It's flat most of the way I promise
            You'll be fine, we can take breaks!
        """,
        "hike.after": """
            Today was perfect, thank you all for coming!
            Photos from today are in the shared album!
            Okay {trail} is officially my favourite trail tbh
            My legs hurt but that view tbh
            Same time next month?
        """,
        "hike.after_react": """
            Gorgeous!
            That looks amazing!
            Okay now I want to go back
        """,
        "book.ask": """
            What's everyone reading right now?
            I need a new book, any recs?
            Book club question: what's the best thing you read this month?
            Anyone want to join my book club? We're reading {book} next
        """,
        "book.rec": """
            Okay I just finished {book} by {writer} and I need to talk about it
            Highly recommend {book}, it's {genre} but really cozy {book_link}
            Has anyone read {writer}? {book} is so good tbh
            If you like {genre} you should read {book}
        """,
        "book.answer": """
            {book}! It's {genre} and I can't put it down
            I'm rereading {book} haha, comfort read
            Two at once tbh, {book} and a travel guide
        """,
        "book.react": """
            Who's it by?
            Okay I just reserved it at the library haha
            Ooh that sounds good!
            Adding it to my list!
            Is it good so far?
        """,
        "movie.propose": """
            Movie night this week? I'm thinking {movie}
            Should we do a movie night? Suggestions?
        """,
        "movie.suggest": """
            What about {movie}?
            Something not too long please haha
            I heard {movie} is good?
        """,
        "movie.after": """
            That was fun! Who picks next time?
            Honestly loved it
            The ending though haha
        """,
        "trip.idea": """
            Okay hear me out: group trip this summer? I was thinking {city}
            Should we do a trip together this year? Maybe {city}?
            I found cheap flights to {city} haha, just saying
        """,
        "trip.spreadsheet": """
            I made a spreadsheet haha {trip_link}
            Okay spreadsheet is ready! Put your dates in {trip_link}
        """,
        "trip.sheet_update": """
            Updated the spreadsheet with the apartment options {trip_link}
            Spreadsheet updated! Apartment is booked, train times are in tab 2 {trip_link}
        """,
        "trip.detail": """
            Which weekend works for everyone?
            Apartment or hostel? The apartment is only a bit more
            Should we book the museum tickets in advance?
            I'll make a list of things to do!
        """,
        "trip.countdown": """
            {n} days to go!
            Don't forget passports!
            Packing list is in the spreadsheet haha
        """,
        "trip.live": """
            Hello from {city}! Dinner in 20?
            Okay where is everyone?
            This place is amazing
        """,
        "trip.recap": """
            Thank you for the best trip!
            Already planning the next one tbh
            Photos are all in the shared album!
        """,
        "bday.wish": """
            Happy birthday {to}!! Hope you have the best day
            Happy birthday! Drinks on us this weekend?
            Happy birthday {to}! 🎉
        """,
        "bday.thanks": """
            Aw thank you all! Love you guys
            Thank you!! Best friends
        """,
        "help.ask": """
            Does anyone know a good dentist nearby?
            Any recommendations for a rain jacket that actually works?
            What's a good gift for someone who has everything?
            Should I take the job offer? Pros and cons please haha
        """,
        "help.answer": """
            Depends what you want tbh, what's your budget?
            I asked the same thing last year, I'll find what I got
            Maybe ask at the market on Saturday?
            Ooh I know a place! I'll send it
            I'd say go for it tbh
            Have you tried {cafe}? They might know
        """,
        "work.complain": """
            Spent two hours in a meeting about meetings haha
            My laptop died mid-presentation today
            Deadline moved up a week, fun times
        """,
        "work.sympathy": """
            Ugh, that sounds like a lot. Take a break tonight?
            Sending strength!
        """,
    },
}

FALLBACK = {
    "react": "agree",
    "yes": "ack",
    "maybe": "yes",
    "no": "sympathy",
    "hype": "wow",
    "confirm": "ack",
    "give_time": "ack",
    "ask_time": "ack",
    "patch_react": "wow",
    "ranked_react": "hype",
    "night_react": "yes",
    "after_react": "wow",
    "trip_react": "hype",
    "early_react": "laugh",
    "hungry": "random",
}

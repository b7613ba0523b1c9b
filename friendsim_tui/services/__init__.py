"""Operations the CLI and the app share: they combine store, importers, dataset and engine."""

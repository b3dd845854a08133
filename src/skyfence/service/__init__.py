"""The live pipeline: feeds in, events out."""

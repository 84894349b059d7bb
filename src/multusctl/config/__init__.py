"""Parsers and models for the files Multus reads. Each parser returns a model or raises ParseError with a
one-line reason; none of them lets an exception of another type escape on bad input."""

"""The pure polars steps of the transforms: frames in, frames out, no database."""

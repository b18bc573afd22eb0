"""The project's own error: a mistake a user can cause, with a message that says what and where."""


class ColorclfError(Exception):
    """Bad input from a user (file, URL, number): st.error on the page, exit status 2 on the CLI."""


class DataError(ColorclfError):
    """A data source that cannot be read or holds no usable row."""


class ModelFileError(ColorclfError):
    """A model file that cannot be loaded or does not fit the colour classifier."""

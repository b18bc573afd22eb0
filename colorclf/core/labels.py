"""The nine colour names. Their order is the one-hot index the model learns."""

LABELS: tuple[str, ...] = (
    "red-ish",
    "green-ish",
    "blue-ish",
    "orange-ish",
    "yellow-ish",
    "pink-ish",
    "purple-ish",
    "brown-ish",
    "grey-ish",
)
NUM_LABELS = len(LABELS)

# A representative colour per label, for bars, legends and map cells.
LABEL_COLORS: dict[str, str] = {
    "red-ish": "#e41a1c",
    "green-ish": "#33a02c",
    "blue-ish": "#1f5fd6",
    "orange-ish": "#ff8c00",
    "yellow-ish": "#f2d600",
    "pink-ish": "#ff69b4",
    "purple-ish": "#7b2fbe",
    "brown-ish": "#8b5a2b",
    "grey-ish": "#8c8c8c",
}


def normalise_label(raw: str) -> str | None:
    """The canonical label for a user's spelling, or None if it is not one of the nine.

    Unambiguous variants are accepted: case, surrounding spaces, "gray", a missing "-ish"
    ("red", "red ish", "redish").
    """
    text = raw.strip().lower().replace("gray", "grey").replace("_", "-")
    for suffix in ("-ish", " ish", "ish"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
            break
    candidate = f"{text}-ish"
    return candidate if candidate in LABELS else None

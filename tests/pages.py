"""What a person reads on a page the test client fetched: its visible text."""

from html.parser import HTMLParser

INVISIBLE = {"script", "style", "template", "noscript"}


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden_depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in INVISIBLE:
            self.hidden_depth += 1

    def handle_endtag(self, tag):
        if tag in INVISIBLE and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth:
            self.parts.append(data)


def text_of(response) -> str:
    """The page's visible text, tags removed and spaces collapsed. A parser rather than a
    pattern: the admin theme's attributes hold `=>` and `>`, which a tag pattern cuts."""
    parser = _VisibleText()
    parser.feed(response.content.decode())
    return " ".join(" ".join(parser.parts).split())

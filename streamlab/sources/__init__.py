"""Sources, registered by name. A new source is one module plus one line here."""

from streamlab.sources.base import Source
from streamlab.sources.synthetic import SyntheticSource
from streamlab.sources.finnhub import FinnhubSource
from streamlab.sources.binance import BinanceSource
from streamlab.sources.tweets import TweetsSource
from streamlab.sources.stdin import StdinSource
from streamlab.sources.replay import ReplaySource
from streamlab.sources.reviews import ReviewsSource

SOURCES: dict[str, type[Source]] = {cls.name: cls for cls in (SyntheticSource, FinnhubSource, BinanceSource, TweetsSource, StdinSource, ReplaySource, ReviewsSource)}

__all__ = ["SOURCES", "Source"]

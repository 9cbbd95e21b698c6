"""A record the reader itself found unusable (a corrupt KPL aggregate) is quarantined with its reason.

A reader may add a fifth column to its shape, `reader_error` (see `readers`): null for a usable
record, else why it is not (`bad KPL aggregate (md5)`). `ReaderErrors` wraps the run's dataset so
that, whatever the dataset, such a record is parsed as usual (so its row has the dataset's own
columns: `_raw`, `position`, `_records` and the rest) and then given the reader's reason as its
`_error`: it lands in `_quarantine/` with that reason, counted once, instead of being taken for a
`not JSON` trade or, worse, for a tweet (any text is one).

How the reason crosses the dataset's `parse`, which keeps only its own columns: every dataset
keeps `position` as it is (the quarantine needs it), so the reason rides in front of the position,
`<reason>\\x00<position>`, and is split off again after the parse. Everything else is delegated.
"""

from __future__ import annotations

from typing import Any

from streamlab.spark.readers import READER_ERROR

_SEP = "\x00"


class ReaderErrors:
    """The dataset `inner`, with the reader's verdicts applied in `parse` (see the module doc)."""

    def __init__(self, inner: Any):
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @classmethod
    def wrap(cls, dataset: Any, raw: Any) -> Any:
        """`dataset` wrapped when the reader's frame `raw` has the `reader_error` column, else as it is."""
        return cls(dataset) if READER_ERROR in raw.columns else dataset

    def parse(self, raw):
        from pyspark.sql import functions as F

        if READER_ERROR not in raw.columns:
            return self.inner.parse(raw)
        # one parse for every row (two parses unioned would read the batch twice and make Spark
        # plan and compile the dataset's whole expression twice): the reason rides in front of the
        # position of a row that has one, and is split off again
        mark = F.col(READER_ERROR)
        carried = raw.withColumn("position", F.when(mark.isNull(), F.col("position"))
                                 .otherwise(F.concat(mark, F.lit(_SEP), F.coalesce("position", F.lit("")))))
        parsed = self.inner.parse(carried.drop(READER_ERROR))
        has = F.coalesce(F.col("position").contains(_SEP), F.lit(False))
        return parsed.withColumns({
            "_error": F.when(has, F.substring_index("position", _SEP, 1)).otherwise(F.col("_error")),
            "position": F.when(has, F.substring_index("position", _SEP, -1)).otherwise(F.col("position")),
        })

#!/usr/bin/env python3
"""The Spark job's shard hash against the vectors the Rust tests share
(shard_vectors.json): the job must split records exactly as
`usage-report run --shard K/N` does. Plain Python, no Spark:

    python3 integrations/spark/test_vectors.py
"""

import sys
import unittest
from pathlib import Path

sys.dont_write_bytecode = True  # tests leave no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

import usage_report_spark as job  # noqa: E402  (needs no pyspark to import)


class ShardVectors(unittest.TestCase):
    def test_every_vector(self):
        self.assertGreaterEqual(job.check_vectors(), 10)

    def test_published_fnv1a64_values(self):
        # From the FNV reference test suite: the offset basis for "", then
        # one and six bytes.
        self.assertEqual(job.fnv1a64(""), 0xCBF29CE484222325)
        self.assertEqual(job.fnv1a64("a"), 0xAF63DC4C8601EC8C)
        self.assertEqual(job.fnv1a64("foobar"), 0x85944171F73967E8)

    def test_the_id_is_hashed_as_given(self):
        # Not trimmed, not normalised: other bytes, another hash.
        self.assertNotEqual(job.fnv1a64(" ACME "), job.fnv1a64("ACME"))
        self.assertNotEqual(job.fnv1a64("Caf\u00e9"), job.fnv1a64("Cafe\u0301"))

    def test_a_missing_id_is_the_empty_id(self):
        self.assertEqual(job.shard_of(None, 7), job.shard_of("", 7))

    def test_a_mismatch_is_caught(self):
        import json
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "v.json"
            bad.write_text(json.dumps([{"customer_id": "ACME", "fnv1a64": "0000000000000000",
                                        "shards": {"2": 0}}]))
            with self.assertRaises(AssertionError):
                job.check_vectors(bad)


if __name__ == "__main__":
    unittest.main()

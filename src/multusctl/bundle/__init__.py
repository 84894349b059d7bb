"""`multusctl bundle`: a support bundle (node reports, doctor, the cluster's multus objects and logs), scrubbed
of secrets, as one tarball with an index. Collect (collect_*.py) -> scrub (config/scrub.py) -> index.py ->
archive.py; run.py holds the order."""

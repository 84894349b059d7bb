"""`multusctl check --all-nodes`: the node checks run on every node through Kubernetes itself.

Gather on each node (a short-lived pod runs the pure-Python node checker from a zipapp in a ConfigMap),
analyze there with the same code as `multusctl check`, bring back only the report, aggregate once here.

- zipapp.py    the node checker as one archive: the modules `check` needs plus PyYAML's pure-Python part
- node_main.py what the archive runs in the pod (`python3 -I -S multusctl-node.pyz /host`)
- nodes.py     which nodes, whether they can run anything, what each one's layout needs mounted
- podspec.py   the owner ConfigMap, the per-node Pod and the DaemonSet
- outcome.py   what a pod's status and log say: a report, still waiting, or why it failed (pure)
- engine.py    the run: bounded concurrency, a client-side rate limit, one watch, deadlines, cleanup
- aggregate.py the per-node reports grouped across nodes: text, json and one merged Report
"""

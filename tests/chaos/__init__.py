"""The chaos oracle: trials that kill and storm real `connector` processes, judged without the connector's code.

The oracle (`oracle`) reads the truth off each sandbox's control surface over HTTP and the store through
plain SQL, and compares every client, invoice (with its lines) and payment by its own small rules. It
imports nothing from `connector` (the sandboxes are the services; they are started through
`sandboxes`, which imports nothing from the connector either). `trials` builds seeded pull and
push trials on it; the tests here run a bounded number, `bench/chaos.py` long campaigns.
"""

"""Peer tools' versions of the benchmarks' workloads, run in the peers' own environments.

Nothing here imports stepstone: each script runs under another interpreter (a venv made
for the peer) and prints its measurements as JSON on stdout.
"""

"""Nameko 2.14 echo service for the bench: `<BENCH_SERVICE_NAME>.echo(payload)` returns payload."""
import os

from nameko.rpc import rpc


class BenchEchoService:
    name = os.environ["BENCH_SERVICE_NAME"]

    @rpc
    def echo(self, payload):
        return payload

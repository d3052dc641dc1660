"""``manage.py simulate``: a living marketplace stream (see ``demo/simulator.py``).

    manage.py simulate --rate 20 --duration 60                 # in-process
    manage.py simulate --rate 50 --events 5000 \\
        --http http://127.0.0.1:8000 --key sck_… --secret scs_…  # over HTTP, signed

Stops after ``--duration`` seconds or ``--events`` events, or cleanly on Ctrl-C.
"""

from django.core.management.base import BaseCommand, CommandError

from demo import hooks, simulator


class Command(BaseCommand):
    help = "Stream realistic marketplace events (buyers, carts, orders and their whole lifecycle)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rate", type=float, default=20, help="Events per second (0: as fast as possible)."
        )
        parser.add_argument("--duration", type=float, help="Stop after this many seconds.")
        parser.add_argument("--events", type=int, help="Stop after this many events.")
        parser.add_argument(
            "--http",
            metavar="URL",
            help="Send signed batches to this server instead of in-process.",
        )
        parser.add_argument("--key", help="Integration key id (with --http).")
        parser.add_argument("--secret", help="Integration secret (with --http).")
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=0,
            metavar="N",
            help="First create N shops with products through events (default: only if none exist).",
        )
        parser.add_argument(
            "--attempts",
            type=int,
            default=6,
            help="With --http: tries per batch on connection errors, timeouts, 429 and 5xx "
            "answers, with exponential backoff (default 6), before the run stops.",
        )
        parser.add_argument("--seed", type=int, help="Random seed (a reproducible stream).")
        parser.add_argument(
            "--batch", type=int, default=500, help="Largest batch sent at once (≤ 500)."
        )

    def handle(self, *args, **o):
        if o["http"] and not (o["key"] and o["secret"]):
            raise CommandError(
                "--http needs --key and --secret (manage.py integration_create NAME)."
            )
        if o["rate"] < 0 or not 1 <= o["batch"] <= 500 or o["attempts"] < 1:
            raise CommandError(
                "--rate must be ≥ 0, --batch between 1 and 500 and --attempts at least 1."
            )
        if o["duration"] is None and o["events"] is None:
            self.stderr.write("No --duration or --events: running until Ctrl-C.")
        sender = (
            simulator.HttpSender(
                url=o["http"],
                key_id=o["key"],
                secret=o["secret"],
                attempts=o["attempts"],
                on_retry=self.stderr.write,
            )
            if o["http"]
            else simulator.InProcessSender()
        )
        world = simulator.world_from_database(seed=o["seed"])
        bootstrap = o["bootstrap"] or (0 if world.shops else 3)
        if bootstrap:
            events = simulator.bootstrap_events(world, shops=bootstrap)
            results = sender.send(events)
            refused = [r for r in results if r["status"] == "rejected"]
            if refused:
                raise CommandError(f"Bootstrap events were refused: {refused[:3]}")
            self.stdout.write(f"Bootstrapped {bootstrap} shops with products and 20 buyers.")
        self.stdout.write(
            f"Simulating on {len(world.shops)} shops, {len(world.buyers)} buyers, "
            f"{'as fast as possible' if not o['rate'] else f'{o["rate"]:g} events/s'}"
            f"{' over HTTP to ' + sender.url if o['http'] else ' in-process'}."
        )
        # The modules' demo ticks (demo/hooks.py) write to this machine's database: in-process
        # only, since over HTTP the server may well use another one.
        ticker = None if o["http"] else hooks.Ticker(seed=o["seed"])
        if ticker:
            self.stdout.write(f"Demo ticks: {', '.join(ticker.apps)}.")
        try:
            simulator.run(
                world=world,
                sender=sender,
                rate=o["rate"],
                duration=o["duration"],
                max_events=o["events"],
                out=self.stdout.write,
                batch_size=o["batch"],
                tick=ticker or None,
            )
        except simulator.SimulatorError as exc:
            raise CommandError(str(exc)) from None

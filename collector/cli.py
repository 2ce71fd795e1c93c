"""`drugtrace-collector`: the county collector's command line."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from collector.cli_options import CONFIG_OPTION, load_config_or_fail
from drugtrace import __version__
from drugtrace.errors import DrugTraceError


def _serve(config) -> None:  # type: ignore[no-untyped-def]
    from collector.runner import start

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        running = start(config)
    except DrugTraceError as exc:
        raise click.ClickException(str(exc)) from None
    web = f", metrics on http://{config.web.host}:{running.web_port}/metrics" if running.web else ""
    click.echo(f"drugtrace-collector {__version__}: county {config.county}, broker {config.broker.mode.value} "
               f"on {config.broker.host}:{config.broker.port}, ledger {config.path(config.store.path)}{web}; "
               "Ctrl-C to stop.", err=False)
    running.subscriber.subscribed.wait(30)
    click.echo("ingest subscribed." if running.subscriber.subscribed.is_set() else "ingest not yet subscribed.")
    stop.wait()
    running.stop()
    click.echo("stopped.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drugtrace-collector")
def main() -> None:
    """DrugTrace collector: the county bureau's ledger of every traceability code.

    \b
    Example:
        drugtrace-collector demo
        drugtrace-collector run --config collector.toml
    """


@main.command()
@click.option("--data", "data", default="demo-data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The one folder for everything (wiped at start if an earlier demo made it).")
@click.option("--short", is_flag=True, help="Fewer stores and sales: the replay takes well under a minute.")
@click.option("--stores", type=click.IntRange(4, 10), default=None,
              help="Number of stores (default 6; 4 with --short).")
@click.option("--keep-running", is_flag=True, help="Keep the county up after the summary, until Ctrl-C.")
@click.option("--seed", default=20260315, show_default=True, help="Seed of the day's scenario.")
def demo(data: Path, short: bool, stores: int | None, keep_running: bool, seed: int) -> None:
    """Run the county demo: a collector and real agents replaying a day with planted fraud.

    On embedded defaults (amqtt broker, SQLite) in one folder: starts the collector and one agent
    per store, each fed by a scanner on a pseudo-terminal and driven through its POS API, replays
    a day with every fraud pattern of DOMAIN section 4 planted next to legitimate look-alikes, and
    prints which patterns the collector found. Exit status 0 when every planted pattern was found
    and no alert is unexplained. See docs/demo.md.

    \b
    Example:
        drugtrace-collector demo
        drugtrace-collector demo --short --data /tmp/demo
    """
    from collector.demo import DemoOptions, run_demo

    sys.exit(run_demo(DemoOptions(data=data, short=short, stores=stores, keep_running=keep_running, seed=seed)))


@main.command()
@CONFIG_OPTION
def run(config_path: Path | None) -> None:
    """Run the broker (embedded unless [broker] mode = "external"), ingest and metrics until stopped.

    \b
    Example:
        drugtrace-collector run --config /etc/drugtrace/collector.toml
    """
    _serve(load_config_or_fail(config_path))


@main.group()
def store() -> None:
    """Manage the stores (pharmacies) allowed to send events.

    \b
    Example:
        drugtrace-collector store add S0042 --config collector.toml
    """


@store.command("add")
@click.argument("store_id")
@CONFIG_OPTION
@click.option("--host", default=None, help="Broker address the agent should use (default: [broker] host).")
def store_add(store_id: str, config_path: Path | None, host: str | None) -> None:
    """Create STORE_ID's broker account (both brokers) and print the agent's configuration.

    The password is shown once: paste the printed lines into the store's agent.toml.
    Mosquitto must reload its files afterwards (`systemctl reload mosquitto`); the embedded
    broker picks them up by itself.

    \b
    Example:
        drugtrace-collector store add S0042 --config collector.toml --host collector.county.example
    """
    from collector.broker.credentials import add_store, agent_snippet

    config = load_config_or_fail(config_path)
    try:
        account = add_store(config, store_id)
    except DrugTraceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"# agent configuration for store {store_id}")
    click.echo(agent_snippet(config, account, host or config.broker.host), nl=False)


@store.command("missing")
@CONFIG_OPTION
def store_missing(config_path: Path | None) -> None:
    """Stores with events missing from their sequence numbers: how many, which, and how often asked.

    The collector asks the store for them again by itself (docs/collector.md, "Events the broker
    lost"); what is still listed after the last request needs a look at the store.

    \b
    Example:
        drugtrace-collector store missing --config collector.toml
    """
    from collector.sequences import count, holes

    rows = sorted(_ledger(config_path).sequences(with_holes=True).items())
    for store, state in rows:
        missing = holes(state.received)
        spans = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in missing[:5])
        more = " ..." if len(missing) > 5 else ""
        since = state.holes_since.isoformat() if state.holes_since else "-"
        click.echo(f"{store}\t{count(missing)} missing\tseq {spans}{more}\tsince {since}"
                   f"\tasked {state.requests} times")
    if not rows:
        click.echo("no events missing.")


@main.group()
def quarantine() -> None:
    """Payloads and events ingest refused, kept with the reason.

    \b
    Example:
        drugtrace-collector quarantine list --config collector.toml
    """


@quarantine.command("list")
@CONFIG_OPTION
@click.option("--limit", default=100, show_default=True)
def quarantine_list(config_path: Path | None, limit: int) -> None:
    """List quarantined payloads, newest first: id, received, store, topic, size, times received, reason.

    \b
    Example:
        drugtrace-collector quarantine list --config collector.toml --limit 20
    """
    rows = _ledger(config_path).quarantine_entries(limit)
    for entry, q, times, _ in rows:
        reason = q.reason.splitlines()[0] if q.reason else ""
        click.echo(f"{entry}\t{q.received_at}\t{q.store or '-'}\t{q.topic}\t{len(q.raw)} bytes\t{times}x\t{reason}")
    if not rows:
        click.echo("nothing quarantined.")


@quarantine.command("show")
@click.argument("entry", type=int)
@CONFIG_OPTION
def quarantine_show(entry: int, config_path: Path | None) -> None:
    """Show one quarantined payload: where it came from, why it was refused, and its bytes as received.

    \b
    Example:
        drugtrace-collector quarantine show 3 --config collector.toml
    """
    rows = _ledger(config_path).quarantine_entries(1, entry=entry)
    if not rows:
        raise click.ClickException(f"Expected an existing quarantine id, got {entry}.")
    _, q, times, last = rows[0]
    _echo_fields([("entry", entry), ("received", q.received_at), ("times", times), ("last", last or "-"),
                  ("store", q.store or "-"), ("topic", q.topic), ("reason", q.reason), ("size", f"{len(q.raw)} bytes")])
    click.echo("payload:")
    click.echo(q.raw.decode("utf-8", errors="backslashreplace"))


@main.group()
def alerts() -> None:
    """List and inspect alerts.

    \b
    Example:
        drugtrace-collector alerts list --config collector.toml
    """


def _echo_fields(fields: list[tuple[str, object]]) -> None:
    """One `label value` line per field, the values aligned one column after the longest label."""
    width = max(len(label) for label, _ in fields) + 1
    for label, value in fields:
        click.echo(f"{label:<{width}} {value}")


def _ledger(config_path: Path | None):  # type: ignore[no-untyped-def]
    from collector.runner import open_ledger

    return open_ledger(load_config_or_fail(config_path))


@alerts.command("list")
@CONFIG_OPTION
@click.option("--state", type=click.Choice(["open", "withdrawn", "closed", "all"]), default="open", show_default=True)
@click.option("--rule", default=None, help="Only this rule (e.g. sold_at_two_stores).")
@click.option("--limit", default=100, show_default=True)
def alerts_list(config_path: Path | None, state: str, rule: str | None, limit: int) -> None:
    """List alerts, newest first: id, rule, severity, subject, stores, evidence count.

    \b
    Example:
        drugtrace-collector alerts list --config collector.toml --rule sold_at_two_stores
    """
    from collector.store.base import AlertState

    ledger = _ledger(config_path)
    chosen = None if state == "all" else AlertState(state)
    rows = ledger.alerts(chosen, rule, limit)
    for a in rows:
        click.echo(f"{a.id}\t{a.state.value}\t{a.rule}\t{a.severity}\t{a.subject}\t{','.join(a.stores)}"
                   f"\t{len(a.evidence)} events\t{a.last_seen}")
    if not rows:
        click.echo("no alerts.")


@alerts.command("show")
@click.argument("alert_id", type=int)
@CONFIG_OPTION
def alerts_show(alert_id: int, config_path: Path | None) -> None:
    """Show one alert with the events that prove it.

    \b
    Example:
        drugtrace-collector alerts show 17 --config collector.toml
    """
    ledger = _ledger(config_path)
    alert = ledger.alert(alert_id)
    if alert is None:
        raise click.ClickException(f"Expected an existing alert id, got {alert_id}.")
    _echo_fields([("alert", alert.id), ("rule", alert.rule), ("state", alert.state.value),
                  ("severity", alert.severity), ("subject", alert.subject), ("code", alert.code or "-"),
                  ("stores", ", ".join(alert.stores)), ("detail", alert.detail),
                  ("first seen", alert.first_seen), ("last seen", alert.last_seen)])
    click.echo("evidence:")
    for event_id in alert.evidence:
        click.echo(f"  {event_id}")


# -- the alert lifecycle (collector.alerts; docs/alerts.md) ------------------------------------------

USER_OPTION = click.option("--user", required=True, envvar="DRUGTRACE_USER",
                           help="Who acts, recorded in the audit trail (or DRUGTRACE_USER).")


def _act(config_path: Path | None, action, alert_id: int, user: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Apply one lifecycle action as auditor USER and print the new status."""
    import datetime as dt

    from collector.alerts import Actor, AlertError, Role
    from collector.alerts.service import AlertService

    ledger = _ledger(config_path)
    try:
        step = getattr(AlertService(ledger), action)(alert_id, Actor(user, Role.AUDITOR),
                                                     dt.datetime.now(dt.timezone.utc), **kwargs)
    except AlertError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        ledger.close()
    click.echo(f"alert {alert_id}: {step.record.from_status.value} → {step.status.value} ({user}).")


@alerts.command("ack")
@click.argument("alert_id", type=int)
@CONFIG_OPTION
@USER_OPTION
@click.option("--note", default="", help="Optional note for the audit trail.")
def alerts_ack(alert_id: int, config_path: Path | None, user: str, note: str) -> None:
    """Acknowledge alert ALERT_ID: you are looking into it (new → acknowledged).

    \b
    Example:
        drugtrace-collector alerts ack 17 --user li.auditor --config collector.toml
    """
    _act(config_path, "acknowledge", alert_id, user, note=note)


def _closure_codes() -> list[str]:
    from collector.alerts import ClosureCode

    return [code.value for code in ClosureCode]


@alerts.command("close")
@click.argument("alert_id", type=int)
@CONFIG_OPTION
@USER_OPTION
@click.option("--code", "closure", type=click.Choice(_closure_codes()), default=None,
              help="Closure code (required): confirmed_* confirms the finding, dismissed_* dismisses it.")
@click.option("--note", default="", help="What was checked and found (required).")
def alerts_close(alert_id: int, config_path: Path | None, user: str, closure: str | None, note: str) -> None:
    """Close acknowledged alert ALERT_ID as confirmed or dismissed, with a closure code and a note.

    \b
    Example:
        drugtrace-collector alerts close 17 --user li.auditor --code dismissed_legitimate_split_pack \\
            --note "拆零销售, 同一药盒, 数量未超" --config collector.toml
    """
    from collector.alerts import ClosureCode

    _act(config_path, "close", alert_id, user, closure=ClosureCode(closure) if closure else None, note=note)


@alerts.command("reopen")
@click.argument("alert_id", type=int)
@CONFIG_OPTION
@USER_OPTION
@click.option("--note", default="", help="Why it needs another look (required).")
def alerts_reopen(alert_id: int, config_path: Path | None, user: str, note: str) -> None:
    """Reopen confirmed or dismissed alert ALERT_ID (→ new).

    The collector reopens a dismissed alert by itself when new evidence arrives.

    \b
    Example:
        drugtrace-collector alerts reopen 17 --user li.auditor --note "store sent the receipts late" \\
            --config collector.toml
    """
    _act(config_path, "reopen", alert_id, user, note=note)


@alerts.command("history")
@click.argument("alert_id", type=int)
@CONFIG_OPTION
def alerts_history(alert_id: int, config_path: Path | None) -> None:
    """Print alert ALERT_ID's audit trail: when, who (role), action, from → to, closure code, note.

    \b
    Example:
        drugtrace-collector alerts history 17 --config collector.toml
    """
    from collector.alerts import AlertError
    from collector.alerts.service import AlertService

    ledger = _ledger(config_path)
    try:
        records = AlertService(ledger).trail(alert_id)
    except AlertError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        ledger.close()
    for r in records:
        source = r.from_status.value if r.from_status else "-"
        click.echo(f"{r.at.isoformat()}\t{r.actor} ({r.role.value})\t{r.action.value}\t{source} → {r.to_status.value}"
                   f"\t{r.closure.value if r.closure else '-'}\t{r.note}")


@main.command("code")
@click.argument("code")
@CONFIG_OPTION
def code_history(code: str, config_path: Path | None) -> None:
    """Print a code's history across the county (every store's events, in store time) and its alerts.

    \b
    Example:
        drugtrace-collector code 81234567890123456789 --config collector.toml
    """
    ledger = _ledger(config_path)
    events = ledger.code_events(code)
    if not events:
        click.echo(f"no events for code {code}.")
    for e in events:
        click.echo(f"{e.at}\t{e.store}\t{e.type}\tdoc {e.doc or '-'}\tseq {e.seq}\t{e.id}")
    for a in ledger.alerts_for_code(code):
        click.echo(f"alert {a.id}\t{a.state.value}\t{a.rule}\t{a.severity}\t{','.join(a.stores)}")


from collector.web.commands import users, web  # noqa: E402  (issue 6: dashboard users and serving it alone)

main.add_command(users)
main.add_command(web)


if __name__ == "__main__":  # pragma: no cover
    main()

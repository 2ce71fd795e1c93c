"""The county demo: a seeded day of a small county replayed through real agents into the collector.

`build_scenario` (pure) plans the day with every fraud pattern of DOMAIN §4 planted next to
legitimate look-alikes; `run_demo` sets up one data folder, starts the collector and the agents,
replays the plan through pseudo-terminal scanners and the POS API, and judges the alerts.
"""

from collector.demo.plan import LookAlike, Planted, Scenario
from collector.demo.run import DemoOptions, run_demo
from collector.demo.scenario import build_scenario

__all__ = ["DemoOptions", "LookAlike", "Planted", "Scenario", "build_scenario", "run_demo"]

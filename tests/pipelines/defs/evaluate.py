"""Evaluate a sensor or schedule as the daemon would: inside its context, so that resources
with a lifecycle (the warehouse's) are set up and torn down."""

import dagster as dg

from pipelines.defs.ingest.sensors import landing_sensor


def evaluate_sensor(**context):
    with dg.build_sensor_context(**context) as built:
        return landing_sensor(built)


def evaluate_schedule(schedule: dg.ScheduleDefinition, **context):
    with dg.build_schedule_context(**context) as built:
        return schedule.evaluate_tick(built)

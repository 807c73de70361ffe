"""The vendor's migration runbook, step by step (loadsim/locust/migration.py): every application starts with
persistence type not redis; the backups are set to redis and switched over (sessions in progress are not
restored); the other half is set to redis and switched over (sessions are restored); then the rollback.

    locust -f scenarios/migration.py --headless -t 50s
"""

from loadsim.locust.users import HaPairUser, scenario


class HaPair(HaPairUser):
    pass


scenario("migration", ha_pairs=3, migration_step=8, cps_per_pair=10, aht=60)

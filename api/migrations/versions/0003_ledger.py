"""The capacity ledger: entries with a sequence, per-element totals, reservation expiry.

Active reservations of earlier versions become the ledger's first entries; the totals are
rebuilt by the service for the network it loads.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "capacity_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(32), nullable=True, index=True),
        sa.Column("connection_point_id", sa.String(32), nullable=False),
        sa.Column("kva", sa.Float, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "capacity_totals",
        sa.Column("element_id", sa.String(40), primary_key=True),
        sa.Column("reserved_kva", sa.Float, nullable=False),
        sa.Column("network_version", sa.String(32), nullable=False),
    )
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("expires_on", sa.Date, nullable=True))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("energised_network_version", sa.String(32), nullable=True))
    op.execute(
        "INSERT INTO capacity_ledger (application_id, connection_point_id, kva, reason, created_at)"
        " SELECT application_id, connection_point_id, kva, 'migrated', created_at"
        " FROM reservations WHERE active = 1 ORDER BY id"
    )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("energised_network_version")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("expires_on")
    op.drop_table("capacity_totals")
    op.drop_table("capacity_ledger")

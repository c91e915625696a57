
"""Dispatches become the tracking outbox (issue 13): partial dispatch by line,
carriers of the channel, outbox state, and the channel's answer as a stored
message (hub.text)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import hub.text.fields
from hub.text.legacy import migrate_column


# The old submission states map onto the outbox states; a tracking number that
# was never submitted goes to the outbox (no tracking number is silently dropped).
STATES = {"SENT": "ACCEPTED", "FAILED": "REFUSED", "PENDING": "PENDING"}


def to_outbox(apps, schema_editor):
    Dispatch = apps.get_model("orders", "Dispatch")
    OrderLine = apps.get_model("orders", "OrderLine")
    for old, new in STATES.items():
        Dispatch.objects.filter(submission=old).update(state=new)
    Dispatch.objects.filter(submission="NOT_REQUIRED").exclude(
        tracking_number=""
    ).update(state="PENDING")
    # Before partial dispatch, a dispatch took every line of its order.
    for dispatch in Dispatch.objects.order_by("order_id", "id"):
        OrderLine.objects.filter(
            order_id=dispatch.order_id, dispatch__isnull=True
        ).update(dispatch=dispatch)


def channel_message_to_message(apps, schema_editor):
    # Nothing wrote these before; whatever is there is kept as a literal text.
    migrate_column(
        apps.get_model("orders", "Dispatch"), "channel_message", "channel_message_new", []
    )


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0007_order_list_total'),
    ]

    operations = [
        migrations.CreateModel(
            name='Carrier',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=32)),
                ('account', models.CharField(max_length=64)),
                ('code', models.CharField(max_length=64)),
                ('name', models.CharField(max_length=100)),
                ('aliases', models.TextField(blank=True)),
                ('position', models.PositiveIntegerField(default=0)),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.AddField(
            model_name='dispatch',
            name='attempts',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='carrier_code',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='confirmed_unpaid',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='last_attempt_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='next_attempt_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='other_carrier',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='shipment_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='state',
            field=models.CharField(choices=[('NOT_SENT', 'Nothing to send'), ('PENDING', 'Waiting to be sent'), ('SENT', "Sent, waiting for the channel's answer"), ('ACCEPTED', 'Accepted by the channel'), ('REFUSED', 'Refused by the channel'), ('NEEDS_ACTION', 'Needs action')], default='NOT_SENT', max_length=16),
        ),
        migrations.AddField(
            model_name='dispatch',
            name='without_stock',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='orderline',
            name='dispatch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='lines', to='orders.dispatch'),
        ),
        migrations.AlterField(
            model_name='orderevent',
            name='kind',
            field=models.CharField(choices=[('IMPORTED', 'Imported'), ('STATUS', 'Channel status changed'), ('PAID', 'Paid'), ('CHANGED', 'Changed on the channel'), ('CANCELLED', 'Cancelled'), ('LINKED', 'Line linked to stock'), ('DISPATCHED', 'Dispatched'), ('TRACKING', 'Tracking number')], max_length=16),
        ),
        migrations.AddIndex(
            model_name='dispatch',
            index=models.Index(fields=['state', 'next_attempt_at'], name='dispatch_outbox'),
        ),
        migrations.AddConstraint(
            model_name='carrier',
            constraint=models.UniqueConstraint(fields=('source', 'account', 'code'), name='one_carrier_per_code'),
        ),
        migrations.RunPython(to_outbox, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='dispatch',
            name='submission',
        ),
        migrations.AddField(
            model_name='dispatch',
            name='channel_message_new',
            field=hub.text.fields.MessageField(blank=True, default=hub.text.fields.empty_message),
        ),
        migrations.RunPython(channel_message_to_message, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name='dispatch', name='channel_message'),
        migrations.RenameField(
            model_name='dispatch', old_name='channel_message_new', new_name='channel_message'
        ),
    ]


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('allegro', '0008_stored_messages'),
    ]

    operations = [
        migrations.AddField(
            model_name='channel',
            name='tracking_status',
            field=models.CharField(blank=True, max_length=32, verbose_name='Order Status After Tracking'),
        ),
    ]

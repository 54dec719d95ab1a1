"""How the API shows latency and abandonment (`calls.latency`): on a call's detail and in a
campaign's progress. Every figure is in milliseconds; percentiles are nearest-rank."""

from rest_framework import serializers


class LatencyPercentilesSerializer(serializers.Serializer):
    p50 = serializers.IntegerField(allow_null=True)
    p90 = serializers.IntegerField(allow_null=True)
    p99 = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True, help_text="The worst one.")


class CallLatencySerializer(serializers.Serializer):
    first_audio_sent_ms = serializers.IntegerField(
        allow_null=True,
        help_text="From the answer (media stream start) to the agent's first audio sent to "
        "the carrier; null when the agent never spoke.",
    )
    first_audio_played_ms = serializers.IntegerField(
        allow_null=True, help_text="From the answer to when the carrier started playing it."
    )
    turns = serializers.IntegerField(help_text="Agent turns that answered the caller.")
    turn_sent_ms = LatencyPercentilesSerializer(
        help_text="From the caller's end of speech to the agent's first audio sent."
    )
    turn_played_ms = LatencyPercentilesSerializer(
        help_text="From the caller's end of speech to the carrier playing it."
    )
    is_abandoned = serializers.BooleanField(
        help_text="A person answered and no agent audio reached the carrier within 2 s."
    )


class CampaignLatencySerializer(serializers.Serializer):
    calls = serializers.IntegerField(help_text="Calls in which the agent spoke.")
    first_audio_sent_ms = LatencyPercentilesSerializer(help_text="Over those calls.")
    first_audio_played_ms = LatencyPercentilesSerializer()
    turns = serializers.IntegerField(help_text="Agent turns that answered a caller.")
    turn_sent_ms = LatencyPercentilesSerializer(help_text="Over every such turn.")
    turn_played_ms = LatencyPercentilesSerializer()


class AbandonmentSerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Calls answered by a person, last 30 days.")
    abandoned = serializers.IntegerField(help_text="Of which abandoned.")
    rate_percent = serializers.FloatField()
    pause_percent = serializers.FloatField(help_text="Above this rate dialing stops.")
    is_dialing_stopped = serializers.BooleanField()
    recovers_at = serializers.DateTimeField(
        allow_null=True,
        help_text="While stopped: when the oldest abandoned call leaves the window.",
    )

"""The survey's question rows in the admin: a choice question's options typed one per line,
stored as before (`Question.choices`, a list of strings)."""

from django import forms
from unfold.widgets import UnfoldAdminTextareaWidget

from campaigns.models import Question


class QuestionForm(forms.ModelForm):
    choices = forms.CharField(
        label="Options",
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3, "cols": 24}),
        help_text="Choice questions: one option per line.",
    )

    class Meta:
        model = Question
        fields = ["position", "kind", "text", "choices", "scale_min", "scale_max"]
        labels = {"scale_min": "Scale from", "scale_max": "Scale to"}
        help_texts = {"scale_min": "Scale questions only.", "scale_max": ""}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.choices, list):
            self.initial["choices"] = "\n".join(str(choice) for choice in self.instance.choices)

    def clean_choices(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["choices"].splitlines()]
        options = [line for line in lines if line]
        repeated = sorted({option for option in options if options.count(option) > 1})
        if repeated:
            raise forms.ValidationError(f"Each option once: {', '.join(repeated)} repeats.")
        return options

    def clean(self):
        cleaned = super().clean()
        kind, options = cleaned.get("kind"), cleaned.get("choices") or []
        if kind and kind != Question.Kind.CHOICE and options:
            # Kept rather than dropped: the operator may have picked the wrong kind.
            self.add_error(
                "choices",
                f"Options are for choice questions; this one is “{Question.Kind(kind).label}”. "
                "Change the kind to Choice, or clear the options.",
            )
        return cleaned

"""Where the recommendations on a case agree: which of them propose the same plan (the same intent and
the same modalities in the same order), and which plan has the most support.

One rule for every place that shows or uses it: the chair's presentation highlights the groups and
prefills the decision from the leading plan, the case page's decision form starts from it, and the
meeting pack prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from tumorboard.enums import Discipline, Intent, Modality
from tumorboard.labels import label
from tumorboard.recommendations.schemas import Recommendation

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Proposal(msgspec.Struct, kw_only=True, frozen=True):
    """One distinct plan the recommendations propose, and who proposes it (in the order they did)."""

    letter: str
    intent: Intent
    modalities: list[Modality]
    recommendation_ids: list[UUID]
    disciplines: list[Discipline]
    authors: list[str]

    @property
    def support(self) -> int:
        """How many recommendations propose this plan."""
        return len(self.recommendation_ids)

    def summary(self) -> str:
        """The plan in one sentence, naming who proposed it (a decision's summary when adopted)."""
        steps = ", then ".join(label(m).lower() for m in self.modalities)
        who = _and(sorted({label(d).lower() for d in self.disciplines}))
        return f"{label(self.intent)} intent: {steps}, as recommended by {who}."


class Agreement(msgspec.Struct, kw_only=True, frozen=True):
    """The recommendations' proposals, most supported first (ties: the one proposed first)."""

    proposals: list[Proposal]

    @property
    def leading(self) -> Proposal | None:
        """The plan with strictly more support than any other, if there is one."""
        if not self.proposals:
            return None
        if len(self.proposals) > 1 and self.proposals[1].support == self.proposals[0].support:
            return None
        return self.proposals[0]

    @property
    def unanimous(self) -> bool:
        """Every recommendation proposes the same plan, and at least two disciplines recommended."""
        return len(self.proposals) == 1 and len(set(self.proposals[0].disciplines)) >= 2

    def letter_of(self, recommendation_id: UUID) -> str:
        """The letter of the proposal a recommendation belongs to."""
        return next(p.letter for p in self.proposals if recommendation_id in p.recommendation_ids)


def agreement(recommendations: Sequence[Recommendation]) -> Agreement:
    """Group recommendations by the plan they propose; the most supported plan first."""
    grouped: dict[tuple[str, tuple[str, ...]], list[Recommendation]] = {}
    for r in sorted(recommendations, key=lambda r: r.created_at):
        grouped.setdefault((str(r.intent), tuple(str(m) for m in r.modalities)), []).append(r)
    ranked = sorted(grouped.values(), key=lambda group: -len(group))  # stable: first proposed wins ties
    return Agreement(
        proposals=[
            Proposal(
                letter=_LETTERS[index % len(_LETTERS)],
                intent=group[0].intent,
                modalities=list(group[0].modalities),
                recommendation_ids=[r.id for r in group],
                disciplines=[r.discipline for r in group],
                authors=[r.author_name for r in group],
            )
            for index, group in enumerate(ranked)
        ]
    )


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"

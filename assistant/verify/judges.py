"""The answer model as a judge: P(yes) from its next-token probabilities for a yes/no prompt file."""

from __future__ import annotations

from ..types import Prompt


class PromptJudge:
    """P(yes) from the answer model's next-token probabilities for a yes/no prompt file whose
    demonstrations sit in the cached prefix, so a question costs only its own tokens. Back ends
    without token probabilities give None."""

    def __init__(self, model, prompt: Prompt):
        self.model = model
        self.prompt = prompt
        head = [{"role": "system", "content": prompt.system}]
        for user, assistant in prompt.examples:
            head += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        self.head = head

    def probability(self, **fields: str) -> float | None:
        ask = getattr(self.model, "yes_probability", None)
        if ask is None:
            return None
        return ask([*self.head, {"role": "user", "content": self.prompt.user.format(**fields)}])


class ModelJudge(PromptJudge):
    """An ``Entailment``: "does the passage state the claim?" (``prompts/verify.en.txt``)."""

    def __call__(self, evidence: str, claim: str) -> float | None:
        return self.probability(evidence=evidence, claim=claim)


class AnswerJudge(PromptJudge):
    """The abstention decision after the support check: "does this answer, with the passage sentences
    it rests on, give what the question asks?" (``prompts/answers.en.txt``). A true sentence about
    a near-topic passage (another city, another event, a related figure) is supported but no answer."""

    #: evidence beyond this many characters is cut, to bound the judge's new tokens
    MAX_EVIDENCE_CHARS = 700

    def __call__(self, question: str, evidence: str, answer: str) -> float | None:
        if len(evidence) > self.MAX_EVIDENCE_CHARS:
            evidence = evidence[: self.MAX_EVIDENCE_CHARS].rsplit(" ", 1)[0] + " …"
        return self.probability(question=question, evidence=evidence, answer=answer)



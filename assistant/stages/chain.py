"""The answering pipeline, composed from its typed stages:

    Query ─ Condenser ─ Condensed ─ Retriever ─ Retrieved ─ ContextBuilder ─ Context     (``prepare``)
    Context ─ Generator ─ raw text (streamed)                                            (``generate``)
    raw text + Context ─ check_answer (Verifier per sentence, then AnswerJudge) ─ Checked (``check``)

``prepare`` is an LCEL runnable of the first three stages; the model's text is streamed separately so
that the caller can show tokens as they come, then checked on our own types.
"""

from __future__ import annotations

from langchain_core.runnables import Runnable, RunnableLambda

from vectorstore import Store

from vectorstore.text import sentence_spans

from ..backends.llm import ChatModel, langchain_chat
from ..backends.models import may_judge
from ..settings import Settings
from ..types import REFUSAL, Checked, Context, EvidenceSentence, Query, SentenceCheck
from ..verify import AnswerJudge, ClaimCheck, Evidence, ModelJudge, Verifier
from .citations import check_answer, citations_of
from .condense import Condenser
from .context import ContextBuilder
from .evidence import is_evidence_first, parse_reply
from .generate import Generator
from .prompts import load_prompt
from .retrieve import Retriever
from .yesno import YesNoDecider, embedder_similarity, is_yes_no, render

LANGUAGES = ("de", "en")


class AnswerChain:
    """The stages for one configuration, built once."""

    def __init__(self, settings: Settings, store: Store, llm: ChatModel):
        a = settings.answering
        self.answer_prompts = {lang: load_prompt("answer", lang, a.prompt_variant, a.prompts_dir) for lang in LANGUAGES}
        condense_prompts = {lang: load_prompt("condense", lang, prompts_dir=a.prompts_dir) for lang in LANGUAGES}
        self.llm = llm
        answer_model = langchain_chat(llm, max_tokens=settings.llm.max_tokens, temperature=settings.llm.temperature)
        condense_model = langchain_chat(llm, max_tokens=a.rewrite_max_tokens, temperature=0.0)
        self.condense = Condenser(condense_model, condense_prompts, a.history_turns, use_model=a.follow_up_rewrite == "model")
        self.store = store
        self.retrieve = Retriever(store, settings.retrieval.k, a.follow_up_boost)
        self.evidence_first = is_evidence_first(a.prompt_variant)
        self.build_context = ContextBuilder(
            store.embedder, a.context_passages, a.passage_max_tokens, numbered=self.evidence_first,
            selection=a.evidence_selection,
        )
        self.generate = Generator(answer_model, self.answer_prompts, evidence_first=self.evidence_first)
        # a model measured to judge no better than chance is not asked (assistant/backends/models.py)
        v = settings.verify
        judging = v.with_model and may_judge(getattr(llm, "model_path", None))
        judge = ModelJudge(llm, load_prompt("verify", "en", prompts_dir=a.prompts_dir)) if judging else None
        answer_judge = (
            AnswerJudge(llm, load_prompt("answers", "en", prompts_dir=a.prompts_dir))
            if judging and v.check_answers_question else None
        )
        self.verifier = Verifier(store.embedder, v, entailment=judge, answer_judge=answer_judge)
        # yes/no questions are decided from the model's P(yes) over the chosen sentences (assistant.stages.yesno)
        self.yes_no = YesNoDecider(llm, similarity=embedder_similarity(store.embedder), prompts_dir=a.prompts_dir) \
            if judging and a.decide_yes_no else None
        self.prepare: Runnable[Query, Context] = (
            RunnableLambda(self.condense) | RunnableLambda(self.retrieve) | RunnableLambda(self.build_context)
        )

    def check(self, raw: str, context: Context) -> Checked:
        """The model's text as a checked answer. An evidence-first reply that chose no sentence is the
        abstention, decided by the model before it wrote anything; otherwise its answer is checked,
        sentences without a marker first against the passages of the evidence it chose."""
        condensed = context.retrieved.condensed
        lang = condensed.query.language
        evidence: tuple[EvidenceSentence, ...] = ()
        notes = []
        if self.evidence_first:
            reply = parse_reply(raw, list(context.sentences))
            if reply.abstains:
                why = "the model found no sentence in the passages that answers the question"
                return Checked(REFUSAL[lang], [], [], False, True, [why])
            if not reply.well_formed:
                notes.append("the reply was not the evidence-first JSON asked for; its text was checked as it is")
            raw, evidence = reply.answer, reply.evidence
        # the names a question asks about are looked for in the whole article: the passage that
        # answers "Wann empfing Trump Selenskyj im Weißen Haus?" says "am Montag" and names neither
        untrimmed = {h.chunk.id: h.text for h in context.retrieved.hits}
        whole = [self.store.article_text(p.chunk.article_id) or untrimmed.get(p.chunk.id, "") for p in context.passages]
        checked = check_answer(
            raw, context.passages, lang, self.verifier, question=condensed.search_text,
            evidence_passages=sorted({e.passage for e in evidence}), whole=whole,
        )
        checked.notes[:0] = notes
        return checked

    def answer_yes_no(self, context: Context) -> Checked | None:
        """A yes/no question decided without free text: "Ja. Im Artikel heißt es: „…“ [n]", the quote
        the sentence the decision rests on. None when it is no yes/no question or stays undecided."""
        condensed = context.retrieved.condensed
        question, lang = condensed.search_text, condensed.query.language
        if self.yes_no is None or not context.passages or not is_yes_no(question, lang):
            return None
        spans = [(n, span) for n, p in enumerate(context.passages, 1) for span in sentence_spans(p.text)]
        texts = [context.passages[n - 1].text[sp.start : sp.end] for n, sp in spans]
        decision = self.yes_no(question, texts, lang)
        if decision.answer is None:
            return None
        n, span = spans[texts.index(decision.evidence)]
        text = render(decision, lang, decision.evidence, n)
        evidence = Evidence(n, span.start, span.end, decision.evidence, 1.0)
        check = ClaimCheck(text, "supported", (evidence,), probability=decision.p_yes)
        sentence = SentenceCheck(text=text, citations=(n,), verdict="supported", evidence=(decision.evidence,))
        note = f"decided yes/no from the model's P(yes) {decision.p_yes:.2f} over {len(texts)} sentences"
        return Checked(text, citations_of([(sentence, check)], context.passages), [sentence], True, False, [note])

    def warm_up(self) -> None:
        """Evaluate each language's fixed prompt prefixes (system text and demonstrations of the answer
        and of the follow-up rewrite) and the judge's once, so that they sit in the model's prompt state
        before the first question instead of costing it seconds (the judge's demonstrations are about
        1,000 tokens; the rewrite's about 130, which a session's first follow-up paid)."""
        warm = [self.generate.messages(lang, context="…", question="…") for lang in LANGUAGES]
        if self.condense.use_model:  # a session's first follow-up then pays only its history and question
            warm += [self.condense.messages(lang, history="…", question="…") for lang in LANGUAGES]
        for messages in warm:
            for _ in self.llm.stream(messages, max_tokens=1, temperature=0.0):
                pass
        if self.verifier.entailment is not None:
            self.verifier.entailment("…", "…")
        if self.verifier.answer_judge is not None:
            self.verifier.answer_judge("…", "…", "…")
        if self.yes_no is not None:
            self.yes_no.warm_up()

    def prompt_id(self, lang: str) -> str:
        return self.answer_prompts[lang].id

"""Matching: the model registry, recommendations both ways, eligibility explanations, occupational bans, batch
assignment.

One module a concern: `registry` (the scoring models), `recommendations`, `bans` and `assignment`. Every
function fetches what it needs through the actor's scope (the candidates and slots services), scores through
the one pipeline (`matcher.matching.pipeline`) over the pure engine, and flushes; the edge commits. This package
re-exports what callers use, so they import `matcher.matching.service`.
"""

from matcher.matching.pipeline import featurizer_for, key_subject_flags
from matcher.matching.service.assignment import confirm_draft, discard_draft, get_draft, list_drafts, plan_assignment
from matcher.matching.service.bans import add_ban, list_bans
from matcher.matching.service.paths import PathView, SecondStep, path_of, second_steps
from matcher.matching.service.recommendations import (
    Recommendation,
    RecommendationPage,
    eligibility,
    recommend_candidates,
    recommend_slots,
    score_pair,
    search_open_slots,
    seat_paths,
    slot_districts,
)
from matcher.matching.service.registry import (
    RETRAIN_FALLBACK_METRIC,
    RETRAIN_METRIC,
    RetrainResult,
    activate_model,
    active_model,
    active_scorer,
    clear_loaded_models,
    evaluate,
    get_model,
    known_outcomes,
    list_models,
    list_registered,
    models_dir,
    new_outcomes_since,
    outcomes_learned_from,
    retrain,
    sync_registry,
    train_model,
    train_model_on_outcomes,
)

__all__ = [
    "PathView", "RETRAIN_FALLBACK_METRIC", "RETRAIN_METRIC", "Recommendation", "RecommendationPage",
    "RetrainResult", "SecondStep", "activate_model", "active_model", "active_scorer", "add_ban",
    "clear_loaded_models", "confirm_draft", "discard_draft", "eligibility", "evaluate", "featurizer_for",
    "get_draft", "get_model", "key_subject_flags", "known_outcomes", "list_bans", "list_drafts", "list_models",
    "list_registered", "models_dir", "new_outcomes_since", "outcomes_learned_from", "path_of", "plan_assignment",
    "recommend_candidates", "recommend_slots", "retrain", "score_pair", "search_open_slots", "seat_paths",
    "second_steps",
    "slot_districts", "sync_registry", "train_model", "train_model_on_outcomes",
]

"""The engine: task registry, specs, runner, records, scoring, leaderboard, services and data.

Public API for envs, agents and plugins (import only these names):
"""
from . import status
from .agent import AgentStrategy, EnvHandle, EpisodeContext, EpisodeOutcome
from .backend import Backend, Completion, EpisodeKey, OptionScores, Request, make_backend, parse_model_spec
from .data import data_dir, data_path, load_prompts
from .env import StepResult, TextEnv
from .errors import BackendError, ContextLimitError, UsageError
from .identity import file_sha256
from .records import fact, is_error
from .registry import (availability, get_task, register_agent, register_backend, register_service, register_task,
                       resolve_tasks, tasks)
from .spec import Generation, TaskSpec, mean_reward_percent
from .version import __version__

__all__ = [
    "AgentStrategy", "Backend", "BackendError", "Completion", "ContextLimitError", "EnvHandle", "EpisodeContext",
    "EpisodeKey", "EpisodeOutcome", "Generation", "OptionScores", "Request", "StepResult", "TaskSpec", "TextEnv", "UsageError",
    "__version__", "availability", "data_dir", "data_path", "fact", "file_sha256", "get_task", "is_error", "load_prompts", "make_backend",
    "mean_reward_percent", "parse_model_spec", "register_agent", "register_backend", "register_service",
    "register_task", "resolve_tasks", "status", "tasks",
]

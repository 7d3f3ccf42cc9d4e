"""Gymnasium as promised: ``gymnasium.make("harness/<task>-v0")`` builds every registered env on its default split,
and ``gymnasium.utils.env_checker.check_env`` passes for each one that can start here (issue 12)."""
from __future__ import annotations

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from harness import UsageError, availability, tasks
from harness.spec import CATEGORIES

pytestmark = pytest.mark.integration

NAMES = sorted(n for n, s in tasks().items() if s.category in CATEGORIES or s.category == "other")


@pytest.mark.parametrize("name", NAMES)
def test_make_builds_the_default_split_and_check_env_passes(name):
    spec = tasks()[name]
    if not availability(spec).ok:
        pytest.skip(f"{name}: {availability(spec).reason}")
    try:
        env = gymnasium.make(spec.gym_id)
    except UsageError as exc:  # data, an endpoint or an image this machine does not have: the env says which
        pytest.skip(f"{name} cannot start here: {exc}")
    try:
        inner = env.unwrapped
        assert inner.split == spec.default_split
        assert len(inner) > 0
        assert inner.observation_space.contains("ünïcødé ✓ 中文") and inner.action_space.contains("→ ok")
        check_env(inner, skip_render_check=True)
    finally:
        env.close()

"""Running an evaluation's environments on a Ray cluster (``harness eval --ray [ADDRESS]``).

The runner on the driver stays the one place that plans episodes, applies limits, writes records and resumes; only
the environments move: each lives in a Ray actor (:mod:`.actors`) placed by the resources its task declares
(:mod:`.placement`), driven through :class:`RayEnvHandle` (:mod:`.handle`), the third env handle beside the thread
and worker-process ones. Each node starts the services its envs need once, in a per-node actor, and stops them when
the run ends; a driver that dies takes its actors (and so their services) with it, as Ray ties non-detached actors
to the job that made them. :class:`RaySession` (:mod:`.session`) holds one run's connection and actors.

Ray is optional (extra ``ray``); nothing here imports it until a run asks for a cluster.
"""
from .session import RaySession, connect

__all__ = ["RaySession", "connect"]

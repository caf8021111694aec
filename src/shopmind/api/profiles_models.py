"""User profiles and propensity models in the running service: the serving versions of the
``profiles``, ``propensity-purchase`` and ``propensity-click`` capabilities, loaded on first use
and swapped when the registry serves a newer version (checked at most every two seconds).

A request takes the loaded object once and uses it to the end, so a swap never changes a model
under a request in flight.
"""

from __future__ import annotations

import logging
import threading
import time

from shopmind.engine_profiles import PROFILES, PROPENSITY
from shopmind.errors import DataError, NotFittedError

__all__ = ["ProfileModels", "profile_models"]

log = logging.getLogger("shopmind.api")
_CHECK_SECONDS = 2.0


class ProfileModels:
    """Loads each capability's serving version from ``registry`` on demand."""

    def __init__(self, registry):
        self.registry = registry
        self._loaded: dict[str, tuple] = {}  # capability -> (version, model)
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _get(self, capability: str, loader):
        now = time.monotonic()
        current = self._loaded.get(capability)
        if current is not None and now - self._checked.get(capability, 0.0) < _CHECK_SECONDS:
            return current
        with self._lock:
            self._checked[capability] = now
            version = self.registry.serving(capability)
            if version is None:
                if current is not None:
                    return current
                raise NotFittedError(
                    f"no {capability} model is trained yet; run `shopmind demo` or train it "
                    f"with shopmind.engine_profiles.train_profiles_and_propensity")
            if current is None or current[0].version != version.version:
                try:
                    current = (version, loader(version.path))
                except Exception:  # noqa: BLE001 - a broken artifact never replaces a good one
                    log.exception("cannot load %s version %s", capability, version.version)
                    if current is None:
                        raise
                self._loaded[capability] = current
        return current

    def profiles(self):
        """(version, UserProfiles) serving now."""
        from shopmind.recommend.profiles import UserProfiles

        return self._get(PROFILES, UserProfiles.load)

    def propensity(self, target: str):
        """(version, Propensity) serving now for ``target`` ("purchase" or "click")."""
        from shopmind.recommend.propensity import Propensity

        if target not in PROPENSITY:
            raise DataError(f"target must be one of {sorted(PROPENSITY)}, got {target!r}")
        return self._get(PROPENSITY[target], Propensity.load)


def profile_models(app) -> ProfileModels:
    """The app's :class:`ProfileModels`, created on first use."""
    models = getattr(app.state, "profile_models", None)
    if models is None:
        models = ProfileModels(app.state.service.registry)
        app.state.profile_models = models
    return models

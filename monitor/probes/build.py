"""The real probes, built from the settings: the one place tokens are handed to clients.

    probes = build_probes(settings)      # {kind: probe}, each built when first needed

Every client gets its base URL, timeout and retry policy from `Settings` here and
nowhere else (PyGithub with `retry=None`, huggingface_hub's client through
`install_client`, httpx for arXiv and the web).
"""

from __future__ import annotations

from monitor import __version__
from monitor.probes import PROBES, Probe, ServiceProbes
from monitor.settings import Settings


def build_probes(settings: Settings) -> ServiceProbes:
    """The real clients, built from the settings: the one place tokens are handed out.

    Each service's probe is built when a source of its kind is first due (`ServiceProbes`).
    """
    limits = settings.probes
    github_token = settings.github_token.reveal() if settings.github_token else None
    hf_token = settings.hf_token.reveal() if settings.hf_token else None

    def github() -> Probe:
        from github import Auth, Github

        from monitor.probes.github import GitHubProbe

        client = Github(
            base_url=settings.github_api_url,
            auth=Auth.Token(github_token) if github_token else None,
            retry=None,
            seconds_between_requests=None,
            # GraphQL batches are POSTs but read-only queries: PyGithub's default spacing of
            # "writes" (1 s) would make every batch of 100 repositories wait a second.
            seconds_between_writes=None,
            # The probe's own connection enforces the (fractional) timeout; PyGithub's is
            # a whole number of seconds, a fallback only.
            timeout=max(1, round(limits.api_timeout_seconds)),
            user_agent=f"monitor/{__version__}",
        )
        return GitHubProbe(
            client,
            token=github_token,
            batch_size=limits.github_batch_size,
            max_wait=float(limits.max_wait_seconds),
            backoff=limits.api_retry_backoff_ms / 1000,
            timeout=limits.api_timeout_seconds,
        )

    def hf() -> Probe:
        from huggingface_hub import HfApi

        from monitor.probes.huggingface import HuggingFaceProbe, install_client

        counter = install_client(timeout=limits.api_timeout_seconds)
        hub = HfApi(
            endpoint=settings.hf_endpoint,
            token=hf_token or False,
            library_name="monitor",
            library_version=__version__,
        )
        return HuggingFaceProbe(
            hub,
            token=hf_token,
            counter=lambda: counter.count,
            workers=limits.hf_workers,
            list_threshold=limits.hf_list_threshold,
            timeout=limits.api_timeout_seconds,
            backoff=limits.api_retry_backoff_ms / 1000,
        )

    def arxiv() -> Probe:
        from monitor.probes.arxiv import ArxivProbe

        return ArxivProbe(
            settings.arxiv_api_url,
            interval=limits.arxiv_interval_seconds,
            timeout=limits.api_timeout_seconds,
            max_wait=float(limits.max_wait_seconds),
        )

    def web() -> Probe:
        from monitor.probes.web import WebProbe

        return WebProbe(
            concurrency=limits.web_concurrency,
            per_host=limits.web_per_host,
            min_interval=limits.web_min_interval_ms / 1000,
            timeout=float(limits.web_timeout_seconds),
            user_agent=limits.user_agent,
            connect_to=dict(settings.connect_to),
            backoff=limits.web_retry_backoff_ms / 1000,
            allow_private_redirects=limits.allow_private_redirects,
            max_wait=float(limits.max_wait_seconds),
            host_accept=settings.policy.accepted,
        )

    return ServiceProbes(PROBES, {"github": github, "hf": hf, "arxiv": arxiv, "web": web})

"""The list's own repository on GitHub: where its maintainers work.

    client.py   the PyGithub client for that repository (token, base URL, timeouts, no
                retry loop) and `GitHubRefused`, which names the permission a token lacks
    issue.py    `monitor github issue`: one tracking issue, kept current
    repair.py   `monitor catalog fix --pr`: one repair pull request, made through the API
    repair_text.py  its title, description (with each replacement's evidence) and commit message
    wayback.py  the Wayback Machine's archived copy of a dead link

What needs action is `monitor.needs`, shared with the reports and the status page.
"""

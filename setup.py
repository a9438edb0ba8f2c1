"""Package layout (the rest of the metadata is in pyproject.toml).

The application lives in platform/perfrules (platform/ is not a package: it would shadow the
standard library's `platform`), built-in plugins in plugins/. templates/ and seed_configs/ sit at
the repository root and are shipped inside the wheel as perfrules/templates and
perfrules/seed_configs; `perfrules.resources` finds them in either place.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("platform"), *find_packages("plugins"), "perfrules.templates", "perfrules.seed_configs"],
    package_dir={
        "": "platform",
        "perfrules_kpi_functions": "plugins/perfrules_kpi_functions",
        "perfrules_smtp": "plugins/perfrules_smtp",
        "perfrules_webhook": "plugins/perfrules_webhook",
        "perfrules.templates": "templates",
        "perfrules.seed_configs": "seed_configs",
    },
    package_data={
        "perfrules.templates": ["**/*"],
        "perfrules.seed_configs": ["**/*"],
        "perfrules.web": ["static/**/*"],
        "perfrules.db": ["migrations/*.mako"],
    },
)

from setuptools import setup

setup(
    name="agno-session",
    version="0.1.0",
    description="The Agno AgentOS /sessions REST API served from PostgreSQL, standalone and fast",
    python_requires=">=3.10",
    packages=["service", "service.handlers", "service.sql", "service.assets"],
    package_dir={"service.sql": "sql"},
    package_data={"service.sql": ["*.sql"], "service.assets": ["*"]},
    install_requires=[
        "tornado>=6.4,<7",
        "aiopg==1.4.0",
        "psycopg2-binary>=2.9,<3",
        "ujson>=5.9",
        "prometheus-client>=0.20",
        "swagger-ui-py>=23",
        # the same PyJWT as agno 3.1.10: token error texts are part of the API (docs/security.md)
        "PyJWT==2.15.1",
        "cryptography>=42",
        "boto3>=1.34,<2",
    ],
    extras_require={
        "dev": [
            "pytest>=8,<10",
            "pytest-tornado==0.8.1",
            "setuptools<82",
            "pytest-timeout",
            "mypy",
            "ruff",
            "types-ujson",
            "types-psycopg2",
            "hypothesis",
            "pyyaml",
            "openapi-spec-validator",
            "schemathesis",
            "moto[server]>=5,<6",
        ],
    },
    entry_points={"console_scripts": ["agno-session=service.__main__:main"]},
)

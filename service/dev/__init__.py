"""Development-only tooling, never on the serving path and not packaged into the wheel or the image
(pyproject.toml lists the packages): `pg` starts and stops the throwaway PostgreSQL clusters that
`make run`, the test suites and the bench use."""

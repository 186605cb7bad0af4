"""Operations helpers shared by the three processes (stdlib + prometheus-client only: both venvs import it)."""

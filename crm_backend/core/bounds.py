"""Integer bounds of the database columns, as annotated types for path, query and body fields.

Every integer column is a 32-bit INTEGER on PostgreSQL, so a larger value from a client would
reach the driver and fail there (500); bounding it at the edge gives a 422 and documents the range.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)

# Body fields.
DbId = Annotated[int, Field(ge=1, le=INT_MAX)]
DbInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
# Path and query parameters.
IdPath = Annotated[int, Path(ge=1, le=INT_MAX)]
IdQuery = Annotated[int | None, Query(ge=1, le=INT_MAX)]
OffsetQuery = Annotated[int, Query(ge=0, le=INT_MAX)]

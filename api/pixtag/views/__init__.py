"""HTTP views: thin PydanticViews that validate, call queries or storage, and answer."""

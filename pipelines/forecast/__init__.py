"""The batch mastery forecast: warehouse in, engine in the middle, forecasts.* tables out."""

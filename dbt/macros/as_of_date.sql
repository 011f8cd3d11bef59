{#- The day the learner metrics are "as of": var('as_of_date') when given (tests, backfills),
    else today (UTC). -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(current_timestamp at time zone 'UTC' as date)
    {%- endif -%}
{%- endmacro %}

{#- Keeps the records known by the end of the as-of day (UTC): a run as of a past day sees the
    warehouse as a landing zone cut at that day would have filled it. -#}
{% macro known_by_as_of(event_time) -%}
    cast({{ event_time }} as date) <= {{ as_of_date() }}
{%- endmacro %}

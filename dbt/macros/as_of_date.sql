{#- The day the learner metrics are "as of": var('as_of_date') when given (tests, backfills),
    else today (UTC). -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(current_timestamp at time zone 'UTC' as date)
    {%- endif -%}
{%- endmacro %}

{#- Wilson score interval for a proportion of `passed` out of `n` (95 % by default): the
    definition the marts report pass rates with. NULL when n is 0. -#}
{% macro wilson_bound(passed, n, sign, z=1.96) -%}
    case when {{ n }} > 0 then
        ({{ passed }} / {{ n }} + {{ z }}^2 / (2 * {{ n }})
         {{ sign }} {{ z }} * sqrt({{ passed }} / {{ n }} * (1 - {{ passed }} / {{ n }}) / {{ n }}
                          + {{ z }}^2 / (4 * {{ n }}^2)))
        / (1 + {{ z }}^2 / {{ n }})
    end
{%- endmacro %}

{% macro wilson_low(passed, n, z=1.96) -%}
    {{ wilson_bound(passed, n, '-', z) }}
{%- endmacro %}

{% macro wilson_high(passed, n, z=1.96) -%}
    {{ wilson_bound(passed, n, '+', z) }}
{%- endmacro %}

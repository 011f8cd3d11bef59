{#- Rows whose value lies outside [low, high] (NULLs pass; not_null says otherwise). -#}
{% test value_between(model, column_name, low, high) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ low }} or {{ column_name }} > {{ high }}
{% endtest %}

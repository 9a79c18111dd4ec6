{#- Combinations of `combination` that occur more than once (nulls compare equal). -#}
{% test unique_combination_of_columns(model, combination) %}

select
    {{ combination | join(', ') }},
    count(*) as occurrences,
from {{ model }}
group by all
having count(*) > 1

{% endtest %}

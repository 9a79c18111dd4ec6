{#- Every row of the model is a finding (a report of data errors): fails when there are any. -#}
{% test is_empty(model) %}

select * from {{ model }}

{% endtest %}

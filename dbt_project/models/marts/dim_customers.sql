-- Customer master as of the latest delivery of each customer_code.
with

customers as (

    select * from {{ ref('stg_raw__customers') }}

),

final as (

    select
        customer_code,
        customer_name,
        customer_country,
        customer_contact_email,
        customer_phone,
        landing_date
    from customers

)

select * from final

-- Customer master (personal data): one row per customer_code, the latest delivery winning.
with

source as (

    select * from {{ source('raw', 'customers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_code
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        customer_code,
        name as customer_name,
        country as customer_country,
        contact_email as customer_contact_email,
        phone as customer_phone,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final

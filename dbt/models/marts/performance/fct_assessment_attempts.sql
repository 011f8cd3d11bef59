-- One assessment attempt, passed when graded with percentage >= 100 x the assessment's
-- passing_score (PRODUCT.md section 3). Incremental: a run reads only the attempts loaded
-- (or replaced by a later status) from files after the latest one already built, and those
-- an earlier run as of a past day left out; a changed assessment catalog needs --full-refresh.
{{
    config(
        materialized='incremental',
        unique_key='attempt_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

attempts as (
    select * from {{ ref('stg_assessment_attempts__attempts') }}
    {% if is_incremental() %}
        where
            loaded_file_id > (select max(built.loaded_file_id) from {{ this }} as built)
            -- known after every attempt built: loaded earlier, but left out by an earlier
            -- run as of a past day (a backfill). Graded, else started, of the built: never
            -- later than when they were known, so none is missed.
            or coalesce(graded_at, submitted_at, started_at) > (
                select max(coalesce(built.graded_at, built.started_at))
                from {{ this }} as built
            )
    {% endif %}
),

assessments as (
    select * from {{ ref('stg_reference__assessments') }}
),

final as (
    select
        attempts.attempt_id,
        attempts.learner_id,
        attempts.assessment_id,
        attempts.attempt_number,
        attempts.status,
        attempts.percentage,
        assessments.passing_score,
        assessments.assessment_type,
        coalesce(
            attempts.status = 'graded'
            and attempts.percentage >= 100 * assessments.passing_score,
            false
        ) as is_passed,
        attempts.started_at,
        attempts.graded_at,
        attempts.loaded_file_id
    from attempts
    inner join assessments on attempts.assessment_id = assessments.assessment_id
)

select * from final

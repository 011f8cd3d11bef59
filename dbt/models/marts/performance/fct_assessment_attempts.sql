-- One assessment attempt, passed when graded with percentage >= 100 x the assessment's
-- passing_score (PRODUCT.md section 3).
with

attempts as (
    select * from {{ ref('stg_assessment_attempts__attempts') }}
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
        attempts.graded_at
    from attempts
    inner join assessments on attempts.assessment_id = assessments.assessment_id
)

select * from final

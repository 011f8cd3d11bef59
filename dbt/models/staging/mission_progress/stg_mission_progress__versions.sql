{{ type_mission_progress(source('raw', 'mission_progress')) }}

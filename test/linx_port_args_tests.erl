%% @doc The port program's command line from the application environment.
-module(linx_port_args_tests).

-include_lib("eunit/include/eunit.hrl").

spin_us_test_() ->
    [?_assertEqual({ok, []}, linx_port_args:spin_args(default)),
     ?_assertEqual({ok, ["--spin-us", "0"]}, linx_port_args:spin_args(0)),
     ?_assertEqual({ok, ["--spin-us", "200"]}, linx_port_args:spin_args(200)),
     ?_assertEqual({error, {bad_spin_us, -1}}, linx_port_args:spin_args(-1)),
     ?_assertEqual({error, {bad_spin_us, 1000001}}, linx_port_args:spin_args(1000001)),
     ?_assertEqual({error, {bad_spin_us, "50"}}, linx_port_args:spin_args("50"))].

%% The program itself accepts what spin_args makes: it starts and answers.
spin_us_accepted_by_the_program_test() ->
    {ok, _} = application:ensure_all_started(linx),
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    {ok, Args} = linx_port_args:spin_args(0),
    Port = open_port({spawn_executable, Exe},
                     [{args, Args}, {packet, 4}, binary, exit_status]),
    receive {Port, {data, Ready}} -> {0, {ready, _}} = binary_to_term(Ready) end,
    true = port_command(Port, term_to_binary({1, {ping, <<"x">>}})),
    receive {Port, {data, Reply}} -> ?assertEqual({1, {ok, <<"x">>}}, binary_to_term(Reply)) end,
    port_close(Port).
